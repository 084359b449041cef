#include "eventstore/codec.hpp"

#include <zlib.h>

#include <cstdio>
#include <cstring>

#include "eventstore/data_json.hpp"

namespace voxlog::codec {
namespace {

void put_u16_le(char* out, std::uint16_t x) {
  out[0] = static_cast<char>(x & 0xff);
  out[1] = static_cast<char>(x >> 8);
}
void put_u32_le(char* out, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((x >> (8 * i)) & 0xff);
}
void put_u64_le(char* out, std::uint64_t x) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((x >> (8 * i)) & 0xff);
}
std::uint16_t get_u16_le(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t get_u32_le(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  std::uint32_t x = 0;
  for (int i = 3; i >= 0; --i) x = (x << 8) | p[i];
  return x;
}
std::uint64_t get_u64_le(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  std::uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = (x << 8) | p[i];
  return x;
}

std::uint32_t checksum(const char* data, std::size_t n) {
  // zlib's crc32 takes a uInt length; values are far below 4 GiB (LMDB would refuse them anyway).
  return static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(n)));
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr std::uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace

void put_u64_be(char* out, std::uint64_t x) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(x & 0xff);
    x >>= 8;
  }
}

std::uint64_t get_u64_be(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  std::uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | p[i];
  return x;
}

std::string seq_key(std::uint64_t seq) {
  std::string k(kSeqKeyBytes, '\0');
  put_u64_be(k.data(), seq);
  return k;
}

bool parse_seq_key(std::string_view key, std::uint64_t* seq) {
  if (key.size() != kSeqKeyBytes) return false;
  *seq = get_u64_be(key.data());
  return true;
}

std::string stream_prefix(std::string_view stream) {
  std::string k(stream);
  k.push_back('\0');
  return k;
}

std::string stream_key(std::string_view stream, std::uint64_t version) {
  std::string k = stream_prefix(stream);
  k.resize(k.size() + 8);
  put_u64_be(k.data() + stream.size() + 1, version);
  return k;
}

bool parse_stream_key(std::string_view key, std::string_view* stream, std::uint64_t* version) {
  if (key.size() < 10) return false;
  std::size_t name_len = key.size() - 9;
  if (key[name_len] != '\0' || key.substr(0, name_len).find('\0') != std::string_view::npos) return false;
  *stream = key.substr(0, name_len);
  *version = get_u64_be(key.data() + name_len + 1);
  return true;
}

std::string encode_dedupe(const AppendResult& r) {
  std::string v(kDedupeValueBytes, '\0');
  put_u64_be(v.data(), r.first_seq);
  put_u64_be(v.data() + 8, r.last_seq);
  put_u64_be(v.data() + 16, r.stream_version);
  return v;
}

bool decode_dedupe(std::string_view value, AppendResult* r) {
  if (value.size() != kDedupeValueBytes) return false;
  r->first_seq = get_u64_be(value.data());
  r->last_seq = get_u64_be(value.data() + 8);
  r->stream_version = get_u64_be(value.data() + 16);
  r->duplicate = true;
  return true;
}

void encode_event(const EventRecord& rec, std::string* out) {
  std::size_t total = kValueHeaderBytes + rec.stream.size() + rec.type.size() + rec.source.size() +
                      rec.dedupe.size() + rec.data_json.size();
  out->resize(total);
  char* p = out->data();
  p[4] = static_cast<char>(kValueEncoding);
  p[5] = 0;  // flags, reserved
  put_u16_le(p + 6, static_cast<std::uint16_t>(rec.stream.size()));
  put_u16_le(p + 8, static_cast<std::uint16_t>(rec.type.size()));
  put_u16_le(p + 10, static_cast<std::uint16_t>(rec.source.size()));
  put_u16_le(p + 12, static_cast<std::uint16_t>(rec.dedupe.size()));
  put_u16_le(p + 14, 0);  // reserved
  put_u32_le(p + 16, rec.v);
  put_u32_le(p + 20, static_cast<std::uint32_t>(rec.data_json.size()));
  put_u64_le(p + 24, rec.version);
  put_u64_le(p + 32, static_cast<std::uint64_t>(rec.ts));
  char* w = p + kValueHeaderBytes;
  for (std::string_view part : {rec.stream, rec.type, rec.source, rec.dedupe, rec.data_json}) {
    if (!part.empty()) std::memcpy(w, part.data(), part.size());
    w += part.size();
  }
  put_u32_le(p, checksum(p + 4, total - 4));
}

namespace {

Status split_record(std::string_view value, std::uint64_t seq, bool check_sum, EventRecord* rec) {
  auto fail = [seq](const std::string& why) {
    return data_loss("event seq " + std::to_string(seq) + ": " + why);
  };
  if (value.size() < kValueHeaderBytes) {
    return fail("value is " + std::to_string(value.size()) + " bytes, shorter than the " +
                std::to_string(kValueHeaderBytes) + "-byte header");
  }
  const char* p = value.data();
  if (static_cast<std::uint8_t>(p[4]) != kValueEncoding) {
    return fail("unknown value encoding " + std::to_string(static_cast<std::uint8_t>(p[4])));
  }
  std::size_t stream_len = get_u16_le(p + 6), type_len = get_u16_le(p + 8);
  std::size_t source_len = get_u16_le(p + 10), dedupe_len = get_u16_le(p + 12);
  std::size_t data_len = get_u32_le(p + 20);
  std::size_t expected = kValueHeaderBytes + stream_len + type_len + source_len + dedupe_len + data_len;
  if (expected != value.size()) {
    return fail("field lengths add up to " + std::to_string(expected) + " bytes but the value has " +
                std::to_string(value.size()));
  }
  std::uint32_t stored = get_u32_le(p), computed = check_sum ? checksum(p + 4, value.size() - 4) : stored;
  if (stored != computed) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "checksum mismatch (stored %08x, computed %08x)", stored, computed);
    return fail(buf);
  }
  rec->v = get_u32_le(p + 16);
  rec->version = get_u64_le(p + 24);
  rec->ts = static_cast<std::int64_t>(get_u64_le(p + 32));
  std::size_t at = kValueHeaderBytes;
  auto take = [&](std::size_t n) {
    std::string_view s = value.substr(at, n);
    at += n;
    return s;
  };
  rec->stream = take(stream_len);
  rec->type = take(type_len);
  rec->source = take(source_len);
  rec->dedupe = take(dedupe_len);
  rec->data_json = take(data_len);
  return Status::ok();
}

}  // namespace

Status decode_record(std::string_view value, std::uint64_t seq, EventRecord* rec) {
  return split_record(value, seq, true, rec);
}

Status peek_record(std::string_view value, std::uint64_t seq, EventRecord* rec) {
  return split_record(value, seq, false, rec);
}

Status decode_event(std::string_view value, std::uint64_t seq, Event* out) {
  EventRecord rec;
  if (Status st = decode_record(value, seq, &rec); !st) return st;
  if (!parse_data_json(rec.data_json, &out->data) || !out->data.is_object()) {
    return data_loss("event seq " + std::to_string(seq) + ": data is not a JSON object");
  }
  out->seq = seq;
  out->stream.assign(rec.stream);
  out->version = rec.version;
  out->type.assign(rec.type);
  out->v = rec.v;
  out->ts = rec.ts;
  out->source.assign(rec.source);
  out->dedupe.assign(rec.dedupe);
  return Status::ok();
}

std::string check_name(std::string_view field, std::string_view s, std::size_t max_bytes) {
  std::string f(field);
  if (s.size() > max_bytes) {
    return f + " is " + std::to_string(s.size()) + " bytes, more than the limit of " +
           std::to_string(max_bytes);
  }
  if (s.find('\0') != std::string_view::npos) return f + " contains a NUL byte";
  if (!valid_utf8(s)) return f + " is not valid UTF-8";
  return {};
}

}  // namespace voxlog::codec
