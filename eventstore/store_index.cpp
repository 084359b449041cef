// Deferred streams/dedupe indexes: reading the DBIs plus the unindexed tail, and the writer's IndexTail.
#include "eventstore/store_index.hpp"

#include <mutex>

#include "eventstore/lmdb_handle.hpp"

namespace voxlog {

using lmdb_handle::Cursor;
using lmdb_handle::lmdb_status;
using lmdb_handle::to_val;
using lmdb_handle::to_view;

Result<std::uint64_t> indexed_through(MDB_txn* txn, const IndexDbis& dbis, std::uint64_t last_seq) {
  MDB_val key = to_val(codec::kMetaIndexedKey), value;
  int rc = mdb_get(txn, dbis.meta, &key, &value);
  if (rc == MDB_NOTFOUND) return last_seq;  // format 1: indexed as it was written
  if (rc != 0) return lmdb_status("mdb_get meta indexed", rc);
  if (value.mv_size != 8) return data_loss("meta 'indexed' is not 8 bytes");
  std::uint64_t through = codec::get_u64_be(static_cast<const char*>(value.mv_data));
  if (through > last_seq) {
    return data_loss("meta 'indexed' is seq " + std::to_string(through) + ", past the last event " +
                     std::to_string(last_seq));
  }
  return through;
}

Status for_each_unindexed(MDB_txn* txn, const IndexDbis& dbis, std::uint64_t through, const TailVisitor& fn) {
  Cursor cursor;
  if (int rc = cursor.open(txn, dbis.events); rc != 0) return lmdb_status("mdb_cursor_open events", rc);
  std::string start = codec::seq_key(through + 1);
  MDB_val key = to_val(start), value;
  for (int rc = cursor.get(&key, &value, MDB_SET_RANGE);; rc = cursor.get(&key, &value, MDB_NEXT)) {
    if (rc == MDB_NOTFOUND) return Status::ok();
    if (rc != 0) return lmdb_status("mdb_cursor_get events", rc);
    std::uint64_t seq;
    if (!codec::parse_seq_key(to_view(key), &seq)) return data_loss("an events key is not 8 bytes");
    codec::EventRecord rec;
    if (Status st = codec::peek_record(to_view(value), seq, &rec); !st) return st;
    if (!fn(seq, rec, to_view(value))) return Status::ok();
  }
}

Result<std::uint64_t> indexed_stream_version(MDB_txn* txn, MDB_dbi streams, std::string_view stream) {
  // Seek just past the stream's highest possible key, then step back onto its last one (if any).
  std::string probe = codec::stream_key(stream, ~std::uint64_t{0});
  Cursor cursor;
  if (int rc = cursor.open(txn, streams); rc != 0) return lmdb_status("mdb_cursor_open streams", rc);
  MDB_val key = to_val(probe), value;
  int rc = cursor.get(&key, &value, MDB_SET_RANGE);
  if (rc == 0) {
    if (to_view(key) == probe) return ~std::uint64_t{0};
    rc = cursor.get(&key, &value, MDB_PREV);
  } else if (rc == MDB_NOTFOUND) {
    rc = cursor.get(&key, &value, MDB_LAST);
  }
  if (rc == MDB_NOTFOUND) return std::uint64_t{0};
  if (rc != 0) return lmdb_status("mdb_cursor_get streams", rc);
  std::string_view name;
  std::uint64_t version;
  if (!codec::parse_stream_key(to_view(key), &name, &version) || name != stream) return std::uint64_t{0};
  return version;
}

void RecentIndex::reset(std::uint64_t through, const IndexTail& tail) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  generations_.clear();
  generations_.emplace_back().after = through;
  Generation& current = generations_.back();
  for (const auto& [key, seq] : tail.stream_entries) {
    std::string_view stream;
    std::uint64_t version;
    codec::parse_stream_key(key, &stream, &version);
    current.streams[std::string(stream)].push_back(VersionSeq{version, seq});  // key order = version order
  }
  for (const auto& [key, answer] : tail.dedupes) current.dedupes.emplace(key, answer);
}

void RecentIndex::add(std::uint64_t seq, std::string_view stream, std::uint64_t version,
                      std::string_view dedupe) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Generation& current = generations_.back();
  current.streams[std::string(stream)].push_back(VersionSeq{version, seq});
  if (dedupe.empty()) return;
  auto [it, fresh] = current.dedupes.try_emplace(std::string(dedupe), AppendResult{seq, seq, version, true});
  if (!fresh) {
    it->second.last_seq = seq;
    it->second.stream_version = version;
  }
}

void RecentIndex::withdraw_from(std::uint64_t seq) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Generation& current = generations_.back();  // a failed batch's entries were all added here
  for (auto it = current.streams.begin(); it != current.streams.end();) {
    auto& entries = it->second;
    while (!entries.empty() && entries.back().seq >= seq) entries.pop_back();
    it = entries.empty() ? current.streams.erase(it) : std::next(it);
  }
  for (auto it = current.dedupes.begin(); it != current.dedupes.end();) {
    it = it->second.first_seq >= seq ? current.dedupes.erase(it) : std::next(it);
  }
}

void RecentIndex::indexed_through(std::uint64_t seq) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  generations_.emplace_back().after = seq;
  while (generations_.size() > kKeptGenerations) generations_.pop_front();
}

bool RecentIndex::stream_entries(std::string_view stream, std::uint64_t after, std::uint64_t upto,
                                 std::vector<VersionSeq>* out) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (generations_.front().after > after) return false;
  std::string key(stream);
  for (const Generation& g : generations_) {
    auto it = g.streams.find(key);
    if (it == g.streams.end()) continue;
    for (const VersionSeq& e : it->second) {
      if (e.seq > after && e.seq <= upto) out->push_back(e);
    }
  }
  return true;
}

bool RecentIndex::dedupe(std::string_view key, std::uint64_t after, std::uint64_t upto,
                         std::optional<AppendResult>* out) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (generations_.front().after > after) return false;
  std::string k(key);
  for (const Generation& g : generations_) {
    auto it = g.dedupes.find(k);
    // One append's events commit together, so a snapshot holds all of them or none.
    if (it != g.dedupes.end() && it->second.first_seq > after && it->second.last_seq <= upto) {
      *out = it->second;
    }
  }
  return true;
}

Result<std::vector<VersionSeq>> unindexed_stream(MDB_txn* txn, const IndexDbis& dbis,
                                                 const RecentIndex* recent, TailBounds bounds,
                                                 std::string_view stream) {
  std::vector<VersionSeq> entries;
  if (recent && recent->stream_entries(stream, bounds.through, bounds.last, &entries)) return entries;
  entries.clear();
  Status st = for_each_unindexed(txn, dbis, bounds.through,
                                 [&](std::uint64_t seq, const codec::EventRecord& rec, auto) {
                                   if (rec.stream == stream) entries.push_back(VersionSeq{rec.version, seq});
                                   return true;
                                 });
  if (!st) return st;
  return entries;
}

Result<std::uint64_t> stream_version_in(MDB_txn* txn, const IndexDbis& dbis, const RecentIndex* recent,
                                        TailBounds bounds, std::string_view stream) {
  auto tail = unindexed_stream(txn, dbis, recent, bounds, stream);
  if (!tail) return tail.status();
  if (!tail->empty()) return tail->back().version;
  return indexed_stream_version(txn, dbis.streams, stream);
}

Result<std::optional<AppendResult>> dedupe_in(MDB_txn* txn, const IndexDbis& dbis, const RecentIndex* recent,
                                              TailBounds bounds, std::string_view key) {
  MDB_val k = to_val(key), v;
  int rc = mdb_get(txn, dbis.dedupe, &k, &v);
  if (rc == 0) {
    AppendResult r;
    if (!codec::decode_dedupe(to_view(v), &r)) {
      return data_loss("dedupe entry '" + std::string(key) + "' is not 24 bytes");
    }
    return std::optional<AppendResult>{r};
  }
  if (rc != MDB_NOTFOUND) return lmdb_status("mdb_get dedupe", rc);
  std::optional<AppendResult> found;
  if (recent && recent->dedupe(key, bounds.through, bounds.last, &found)) return found;
  // The events of one append are consecutive seqs carrying its key.
  Status st = for_each_unindexed(txn, dbis, bounds.through,
                                 [&](std::uint64_t seq, const codec::EventRecord& rec, auto) {
                                   if (rec.dedupe != key) return !found;
                                   if (!found) found = AppendResult{seq, seq, rec.version, true};
                                   found->last_seq = seq;
                                   found->stream_version = rec.version;
                                   return true;
                                 });
  if (!st) return st;
  return found;
}

void IndexTail::add(std::uint64_t seq, std::string_view stream, std::uint64_t version,
                    std::string_view dedupe) {
  stream_entries.emplace(codec::stream_key(stream, version), seq);
  versions[std::string(stream)] = version;
  if (dedupe.empty()) return;
  auto [it, fresh] = dedupes.try_emplace(std::string(dedupe), AppendResult{seq, seq, version, true});
  if (!fresh) {
    it->second.last_seq = seq;
    it->second.stream_version = version;
  }
}

void IndexTail::merge(IndexTail&& later) {
  stream_entries.merge(later.stream_entries);
  for (auto& [stream, version] : later.versions) versions[stream] = version;
  dedupes.merge(later.dedupes);
}

Status IndexTail::load(MDB_txn* txn, const IndexDbis& dbis, std::uint64_t last_seq) {
  auto through_now = indexed_through(txn, dbis, last_seq);
  if (!through_now) return through_now.status();
  *this = IndexTail{};
  through = *through_now;
  return for_each_unindexed(txn, dbis, through,
                            [this](std::uint64_t seq, const codec::EventRecord& rec, auto) {
                              add(seq, rec.stream, rec.version, rec.dedupe);
                              return true;
                            });
}

Status IndexTail::write(MDB_txn* txn, const IndexDbis& dbis, std::uint64_t through_seq,
                        bool* map_full) const {
  auto put = [&](MDB_dbi dbi, std::string_view key, std::string_view value, const char* what) {
    MDB_val k = to_val(key), v = to_val(value);
    int rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_MAP_FULL) *map_full = true;
    return rc == 0 ? Status::ok() : lmdb_status(std::string("mdb_put ") + what, rc);
  };
  for (const auto& [key, seq] : stream_entries) {
    if (Status st = put(dbis.streams, key, codec::seq_key(seq), "streams"); !st) return st;
  }
  for (const auto& [key, answer] : dedupes) {
    if (Status st = put(dbis.dedupe, key, codec::encode_dedupe(answer), "dedupe"); !st) return st;
  }
  std::string through_value = codec::seq_key(through_seq);  // the same u64 BE encoding
  MDB_val k = to_val(codec::kMetaIndexedKey), v = to_val(through_value);
  int rc = mdb_put(txn, dbis.meta, &k, &v, 0);
  if (rc == MDB_MAP_FULL) *map_full = true;
  return rc == 0 ? Status::ok() : lmdb_status("mdb_put meta indexed", rc);
}

}  // namespace voxlog
