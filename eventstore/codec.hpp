// Byte layout of the event store's LMDB keys and values (the code behind FORMAT.md).
//
// Contract: pure functions, no I/O. Encoders take already-validated fields (see the limits below);
// decoders never trust their input: a value that is too short, has inconsistent lengths, a bad checksum
// or undecodable JSON yields data_loss naming the seq, never undefined behaviour. Used only by the event
// store and its tools (`voxlog verify`); everyone else reads Events through EventStore.
//
// Thread-safety: stateless; call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "eventstore/event.hpp"
#include "eventstore/status.hpp"
#include "eventstore/store.hpp"

namespace voxlog::codec {

// Limits that keep every key below LMDB's 511-byte key size and every length in a u16.
inline constexpr std::size_t kMaxStreamBytes = 256;
inline constexpr std::size_t kMaxDedupeBytes = 256;
inline constexpr std::size_t kMaxTypeBytes = 128;
inline constexpr std::size_t kMaxSourceBytes = 64;
inline constexpr std::uint8_t kValueEncoding = 1;
inline constexpr std::size_t kValueHeaderBytes = 40;
inline constexpr std::size_t kSeqKeyBytes = 8;
inline constexpr std::size_t kDedupeValueBytes = 24;

// meta DBI: magic and format are written when the store is created; `indexed` (u64 BE, format 2) is
// the highest seq whose streams and dedupe entries are written, updated with them.
inline constexpr std::string_view kMetaMagicKey = "magic";
inline constexpr std::string_view kMetaMagic = "voxlog-eventstore";
inline constexpr std::string_view kMetaFormatKey = "format";
inline constexpr std::string_view kMetaIndexedKey = "indexed";
inline constexpr std::uint32_t kFormatVersion = 2;
inline constexpr std::uint32_t kOldestReadableFormat = 1;  // version 1: everything indexed, no `indexed`

void put_u64_be(char* out, std::uint64_t x);
std::uint64_t get_u64_be(const char* in);

// events key: seq as 8 bytes big-endian, so LMDB's byte order is seq order.
std::string seq_key(std::uint64_t seq);
bool parse_seq_key(std::string_view key, std::uint64_t* seq);

// streams key: stream bytes, one NUL, version as 8 bytes big-endian. Stream names never contain NUL,
// so two streams never share a key and one stream's versions sort together, in version order.
std::string stream_key(std::string_view stream, std::uint64_t version);
bool parse_stream_key(std::string_view key, std::string_view* stream, std::uint64_t* version);
// The prefix every key of `stream` starts with: stream bytes + NUL.
std::string stream_prefix(std::string_view stream);

// dedupe value: first_seq, last_seq, stream_version, each 8 bytes big-endian.
std::string encode_dedupe(const AppendResult& r);
bool decode_dedupe(std::string_view value, AppendResult* r);

// The fields of one event as stored; `data_json` is the compact JSON of the data object.
struct EventRecord {
  std::string_view stream;
  std::uint64_t version = 0;
  std::string_view type;
  std::uint32_t v = 1;
  std::int64_t ts = 0;
  std::string_view source;
  std::string_view dedupe;
  std::string_view data_json;
};

// Replaces `out` with the encoded value of `rec` (reusing its capacity).
void encode_event(const EventRecord& rec, std::string* out);
// Checks length and checksum and splits the value into views into `value`; data is not parsed.
Status decode_record(std::string_view value, std::uint64_t seq, EventRecord* rec);
// The fields the indexes need, read from the header and checked for length but not checksum: cheap
// enough to run over the unindexed tail on every read.
Status peek_record(std::string_view value, std::uint64_t seq, EventRecord* rec);
// decode_record plus parsing data into a JSON object.
Status decode_event(std::string_view value, std::uint64_t seq, Event* out);

// Empty when `s` is acceptable as the named field, else why not ("stream is empty").
std::string check_name(std::string_view field, std::string_view s, std::size_t max_bytes);

}  // namespace voxlog::codec
