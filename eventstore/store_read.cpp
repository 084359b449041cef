// LmdbEventStore reads: each runs in its own LMDB read transaction and never waits for the writer.
#include <sys/stat.h>

#include <algorithm>
#include <future>

#include "eventstore/codec.hpp"
#include "eventstore/store_impl.hpp"

namespace voxlog {

using lmdb_handle::Cursor;
using lmdb_handle::lmdb_status;
using lmdb_handle::to_val;
using lmdb_handle::to_view;

Result<std::uint64_t> LmdbEventStore::Impl::last_seq_in(MDB_txn* txn) const {
  Cursor cursor;
  if (int rc = cursor.open(txn, events_dbi); rc != 0) return lmdb_status("mdb_cursor_open events", rc);
  MDB_val key, value;
  int rc = cursor.get(&key, &value, MDB_LAST);
  if (rc == MDB_NOTFOUND) return std::uint64_t{0};
  if (rc != 0) return lmdb_status("mdb_cursor_get events (last)", rc);
  std::uint64_t seq;
  if (!codec::parse_seq_key(to_view(key), &seq)) return data_loss("the last events key is not 8 bytes");
  return seq;
}

Result<TailBounds> LmdbEventStore::Impl::tail_bounds(MDB_txn* txn) const {
  auto last = last_seq_in(txn);
  if (!last) return last.status();
  auto through = indexed_through(txn, index_dbis(), *last);
  if (!through) return through.status();
  return TailBounds{*through, *last};
}

namespace {

// Reads the event stored under `seq_key` (8 bytes) and decodes it.
Status get_event(MDB_txn* txn, MDB_dbi events_dbi, std::string_view seq_key, Event* out) {
  MDB_val key = to_val(seq_key), value;
  std::uint64_t seq = codec::get_u64_be(seq_key.data());
  if (int rc = mdb_get(txn, events_dbi, &key, &value); rc != 0) {
    if (rc == MDB_NOTFOUND) return data_loss("event seq " + std::to_string(seq) + " is missing");
    return lmdb_status("mdb_get events", rc);
  }
  return codec::decode_event(to_view(value), seq, out);
}

}  // namespace

Result<std::vector<Event>> LmdbEventStore::read_all(std::uint64_t after_seq, std::size_t limit) const {
  std::vector<Event> events;
  Status st = scan(after_seq, [&](const Event& e) {
    if (events.size() >= limit) return false;
    events.push_back(e);
    return events.size() < limit;
  });
  if (!st) return st;
  return events;
}

Result<std::vector<Event>> LmdbEventStore::read_stream(const std::string& stream, std::uint64_t from_version,
                                                       std::size_t limit) const {
  auto txn = impl_->begin_read();
  if (!txn) return txn.status();
  Cursor cursor;
  if (int rc = cursor.open(txn->get(), impl_->streams_dbi); rc != 0) {
    return lmdb_status("mdb_cursor_open streams", rc);
  }
  std::string start = codec::stream_key(stream, from_version == 0 ? 1 : from_version);
  std::string prefix = codec::stream_prefix(stream);
  std::vector<Event> events;
  MDB_val key = to_val(start), value;
  for (int rc = cursor.get(&key, &value, MDB_SET_RANGE); events.size() < limit;
       rc = cursor.get(&key, &value, MDB_NEXT)) {
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return lmdb_status("mdb_cursor_get streams", rc);
    std::string_view k = to_view(key);
    if (k.size() != prefix.size() + 8 || k.compare(0, prefix.size(), prefix) != 0) break;
    if (value.mv_size != codec::kSeqKeyBytes) {
      return data_loss("streams entry of " + stream + " does not hold an 8-byte seq");
    }
    Event e;
    if (Status st = get_event(txn->get(), impl_->events_dbi, to_view(value), &e); !st) return st;
    events.push_back(std::move(e));
  }
  if (events.size() >= limit) return events;
  // The stream's newest events may not be indexed yet: they follow its indexed ones.
  auto bounds = impl_->tail_bounds(txn->get());
  if (!bounds) return bounds.status();
  auto tail = unindexed_stream(txn->get(), impl_->index_dbis(), impl_->recent_for_readers(), *bounds, stream);
  if (!tail) return tail.status();
  for (const VersionSeq& entry : *tail) {
    if (events.size() >= limit) break;
    if (entry.version < from_version) continue;
    Event e;
    std::string seq_key = codec::seq_key(entry.seq);
    if (Status st = get_event(txn->get(), impl_->events_dbi, seq_key, &e); !st) return st;
    events.push_back(std::move(e));
  }
  return events;
}

Result<std::optional<AppendResult>> LmdbEventStore::find_dedupe(const std::string& dedupe_key) const {
  if (dedupe_key.empty() || dedupe_key.size() > codec::kMaxDedupeBytes) return std::optional<AppendResult>{};
  auto txn = impl_->begin_read();
  if (!txn) return txn.status();
  auto bounds = impl_->tail_bounds(txn->get());
  if (!bounds) return bounds.status();
  return dedupe_in(txn->get(), impl_->index_dbis(), impl_->recent_for_readers(), *bounds, dedupe_key);
}

namespace {

// scan() decodes in chunks that start small (a page of read_all decodes little more than it returns) and
// double up to kMaxScanChunk; from kParallelScanChunk on, half of each chunk is decoded on a helper thread.
constexpr std::size_t kFirstScanChunk = 64;
constexpr std::size_t kParallelScanChunk = 1024;
constexpr std::size_t kMaxScanChunk = 8192;

struct RawEvent {
  std::uint64_t seq;
  std::string_view value;  // points into the map; valid while the read transaction lives
};

// Decodes raw[begin, end) into events[begin, end); the index of the first failure (or end) and its status.
std::size_t decode_range(const std::vector<RawEvent>& raw, std::vector<Event>& events, std::size_t begin,
                         std::size_t end, Status* failure) {
  for (std::size_t i = begin; i < end; ++i) {
    if (Status st = codec::decode_event(raw[i].value, raw[i].seq, &events[i]); !st) {
      *failure = st;
      return i;
    }
  }
  return end;
}

}  // namespace

Status LmdbEventStore::scan(std::uint64_t after_seq, const std::function<bool(const Event&)>& fn) const {
  if (after_seq == ~std::uint64_t{0}) return Status::ok();
  auto txn = impl_->begin_read();
  if (!txn) return txn.status();
  Cursor cursor;
  if (int rc = cursor.open(txn->get(), impl_->events_dbi); rc != 0) {
    return lmdb_status("mdb_cursor_open events", rc);
  }
  std::string start = codec::seq_key(after_seq + 1);
  MDB_val key = to_val(start), value;
  int rc = cursor.get(&key, &value, MDB_SET_RANGE);
  std::vector<RawEvent> raw;
  std::vector<Event> events;
  for (std::size_t chunk = kFirstScanChunk;; chunk = std::min(chunk * 2, kMaxScanChunk)) {
    raw.clear();
    for (; raw.size() < chunk && rc == 0; rc = cursor.get(&key, &value, MDB_NEXT)) {
      std::uint64_t seq;
      if (!codec::parse_seq_key(to_view(key), &seq)) return data_loss("an events key is not 8 bytes");
      raw.push_back(RawEvent{seq, to_view(value)});
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_status("mdb_cursor_get events", rc);
    if (events.size() < raw.size()) events.resize(raw.size());
    // Decode; on failure, still hand fn every event before the bad one, as a serial scan would.
    Status first_failure, second_failure;
    std::size_t decoded;
    if (raw.size() >= kParallelScanChunk) {
      std::size_t half = raw.size() / 2;
      auto second = std::async(std::launch::async,
                               [&] { return decode_range(raw, events, half, raw.size(), &second_failure); });
      decoded = decode_range(raw, events, 0, half, &first_failure);
      std::size_t second_end = second.get();
      if (decoded == half) {
        decoded = second_end;
        first_failure = second_failure;
      }
    } else {
      decoded = decode_range(raw, events, 0, raw.size(), &first_failure);
    }
    for (std::size_t i = 0; i < decoded; ++i) {
      if (!fn(events[i])) return Status::ok();
    }
    if (!first_failure) return first_failure;
    if (rc == MDB_NOTFOUND) return Status::ok();
  }
}

Status LmdbEventStore::last_write_status() const {
  return impl_->last_write_status();
}

std::uint64_t LmdbEventStore::last_seq() const {
  if (!impl_->options.read_only) return impl_->last_seq.load();
  // Read-only: another process may be the writer, so ask the log itself.
  auto txn = impl_->begin_read();
  if (!txn) return 0;
  auto last = impl_->last_seq_in(txn->get());
  return last ? *last : 0;
}

Result<std::uint64_t> LmdbEventStore::stream_version(const std::string& stream) const {
  auto txn = impl_->begin_read();
  if (!txn) return txn.status();
  auto bounds = impl_->tail_bounds(txn->get());
  if (!bounds) return bounds.status();
  return stream_version_in(txn->get(), impl_->index_dbis(), impl_->recent_for_readers(), *bounds, stream);
}

Result<StoreStats> LmdbEventStore::stats() const {
  auto txn = impl_->begin_read();
  if (!txn) return txn.status();
  StoreStats s;
  MDB_stat st;
  mdb_stat(txn->get(), impl_->events_dbi, &st);
  s.events = st.ms_entries;
  mdb_stat(txn->get(), impl_->dedupe_dbi, &st);
  s.dedupe_keys = st.ms_entries;
  // Count streams by jumping from each stream's first key to the next stream's.
  Cursor cursor;
  if (int rc = cursor.open(txn->get(), impl_->streams_dbi); rc != 0) {
    return lmdb_status("mdb_cursor_open streams", rc);
  }
  MDB_val key, value;
  for (int rc = cursor.get(&key, &value, MDB_FIRST); rc == 0;) {
    std::string_view name;
    std::uint64_t version;
    if (!codec::parse_stream_key(to_view(key), &name, &version))
      return data_loss("a streams key is malformed");
    ++s.streams;
    std::string next = codec::stream_prefix(name);
    next.back() = '\x01';  // just past every "name\0..." key
    key = to_val(next);
    rc = cursor.get(&key, &value, MDB_SET_RANGE);
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_status("mdb_cursor_get streams", rc);
  }
  // The unindexed tail: a stream whose version 1 is there is new, and so is every key there.
  auto bounds = impl_->tail_bounds(txn->get());
  if (!bounds) return bounds.status();
  std::string last_key;
  Status tail = for_each_unindexed(txn->get(), impl_->index_dbis(), bounds->through,
                                   [&](std::uint64_t, const codec::EventRecord& rec, std::string_view) {
                                     if (rec.version == 1) ++s.streams;
                                     if (!rec.dedupe.empty() && rec.dedupe != last_key) {
                                       ++s.dedupe_keys;  // one append's events are consecutive
                                       last_key.assign(rec.dedupe);
                                     }
                                     return true;
                                   });
  if (!tail) return tail;
  s.indexed_through = bounds->through;
  MDB_envinfo info;
  mdb_env_info(impl_->env, &info);
  s.map_bytes = info.me_mapsize;
  struct stat file;
  std::string path = impl_->dir + "/data.mdb";
  if (::stat(path.c_str(), &file) == 0) s.file_bytes = static_cast<std::uint64_t>(file.st_size);
  s.commits = impl_->commits.load();
  return s;
}

}  // namespace voxlog
