// LmdbEventStore::verify(): checks every invariant of FORMAT.md in one read transaction and names the first
// violation it finds.
#include <unordered_map>

#include "eventstore/codec.hpp"
#include "eventstore/store_impl.hpp"

namespace voxlog {

using lmdb_handle::Cursor;
using lmdb_handle::lmdb_status;
using lmdb_handle::to_val;
using lmdb_handle::to_view;

namespace {

std::string in_quotes(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// An event after meta `indexed`: in no index yet, and the next version of its stream.
Status verify_unindexed(MDB_txn* txn, const IndexDbis& s, const Event& event, const std::string& where,
                        std::unordered_map<std::string, std::uint64_t>* tail_versions) {
  std::string skey = codec::stream_key(event.stream, event.version);
  MDB_val sk = to_val(skey), sv;
  if (mdb_get(txn, s.streams, &sk, &sv) != MDB_NOTFOUND) {
    return data_loss(where + ": in the streams index, but after meta 'indexed'");
  }
  if (!event.dedupe.empty()) {
    MDB_val dk = to_val(event.dedupe), dv;
    if (mdb_get(txn, s.dedupe, &dk, &dv) != MDB_NOTFOUND) {
      return data_loss(where + ": dedupe key " + in_quotes(event.dedupe) +
                       " is in the dedupe index, but the event is after meta 'indexed'");
    }
  }
  auto it = tail_versions->find(event.stream);
  std::uint64_t previous;
  if (it != tail_versions->end()) {
    previous = it->second;
  } else {
    auto indexed = indexed_stream_version(txn, s.streams, event.stream);
    if (!indexed) return indexed.status();
    previous = *indexed;
  }
  if (event.version != previous + 1) {
    return data_loss(where + ": follows version " + std::to_string(previous) + " of its stream");
  }
  (*tail_versions)[event.stream] = event.version;
  return Status::ok();
}

// Invariants 1-4: dense seqs, values decode, each event indexed in streams, each dedupe key recorded
// (or, after meta `indexed`, in no index and dense within its stream).
Status verify_events(MDB_txn* txn, const IndexDbis& s, std::uint64_t through, std::uint64_t* count) {
  std::unordered_map<std::string, std::uint64_t> tail_versions;
  Cursor cursor;
  if (int rc = cursor.open(txn, s.events); rc != 0) return lmdb_status("mdb_cursor_open events", rc);
  MDB_val key, value;
  std::uint64_t expected = 1;
  Event event;
  for (int rc = cursor.get(&key, &value, MDB_FIRST);; rc = cursor.get(&key, &value, MDB_NEXT), ++expected) {
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return lmdb_status("mdb_cursor_get events", rc);
    std::uint64_t seq;
    if (!codec::parse_seq_key(to_view(key), &seq)) {
      return data_loss("events key after seq " + std::to_string(expected - 1) + " is " +
                       std::to_string(key.mv_size) + " bytes, not 8");
    }
    if (seq != expected) {
      return data_loss("seq gap: expected seq " + std::to_string(expected) + ", found " +
                       std::to_string(seq));
    }
    if (Status st = codec::decode_event(to_view(value), seq, &event); !st) return st;
    std::string where =
        "event seq " + std::to_string(seq) + " (" + event.stream + " v" + std::to_string(event.version) + ")";
    if (event.version == 0) return data_loss(where + ": stream version is 0");
    if (!codec::check_name("stream", event.stream, codec::kMaxStreamBytes).empty() || event.stream.empty()) {
      return data_loss(where + ": stream name is invalid");
    }
    if (seq > through) {
      if (Status st = verify_unindexed(txn, s, event, where, &tail_versions); !st) return st;
      continue;
    }
    std::string skey = codec::stream_key(event.stream, event.version);
    MDB_val sk = to_val(skey), sv;
    int got = mdb_get(txn, s.streams, &sk, &sv);
    if (got == MDB_NOTFOUND) return data_loss(where + ": not in the streams index");
    if (got != 0) return lmdb_status("mdb_get streams", got);
    if (sv.mv_size != 8 || codec::get_u64_be(static_cast<const char*>(sv.mv_data)) != seq) {
      return data_loss(where + ": the streams index points elsewhere");
    }
    if (!event.dedupe.empty()) {
      MDB_val dk = to_val(event.dedupe), dv;
      AppendResult r;
      if (mdb_get(txn, s.dedupe, &dk, &dv) != 0 || !codec::decode_dedupe(to_view(dv), &r)) {
        return data_loss(where + ": dedupe key " + in_quotes(event.dedupe) + " is not recorded");
      }
      if (seq < r.first_seq || seq > r.last_seq) {
        return data_loss(where + ": dedupe key " + in_quotes(event.dedupe) + " records seqs " +
                         std::to_string(r.first_seq) + ".." + std::to_string(r.last_seq));
      }
    }
  }
  *count = expected - 1;
  return Status::ok();
}

// Invariant 5: each stream's versions are dense from 1, and the index has exactly one entry per indexed
// event.
Status verify_streams(MDB_txn* txn, const IndexDbis& s, std::uint64_t events) {
  Cursor cursor;
  if (int rc = cursor.open(txn, s.streams); rc != 0) return lmdb_status("mdb_cursor_open streams", rc);
  MDB_val key, value;
  std::string current;
  std::uint64_t previous = 0, entries = 0;
  for (int rc = cursor.get(&key, &value, MDB_FIRST);; rc = cursor.get(&key, &value, MDB_NEXT)) {
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return lmdb_status("mdb_cursor_get streams", rc);
    std::string_view name;
    std::uint64_t version;
    if (!codec::parse_stream_key(to_view(key), &name, &version)) {
      return data_loss("streams key after " + in_quotes(current) + " v" + std::to_string(previous) +
                       " is malformed");
    }
    if (name != current) {
      current.assign(name);
      previous = 0;
    }
    if (version != previous + 1) {
      return data_loss("stream " + in_quotes(current) + ": version " + std::to_string(version) + " follows " +
                       std::to_string(previous));
    }
    previous = version;
    ++entries;
  }
  if (entries != events) {
    return data_loss("streams index has " + std::to_string(entries) + " entries for " +
                     std::to_string(events) + " indexed events");
  }
  return Status::ok();
}

// Invariant 6: every dedupe entry names a committed, indexed range of events carrying that key.
Status verify_dedupe(MDB_txn* txn, const IndexDbis& s, std::uint64_t events) {
  Cursor cursor;
  if (int rc = cursor.open(txn, s.dedupe); rc != 0) return lmdb_status("mdb_cursor_open dedupe", rc);
  MDB_val key, value;
  for (int rc = cursor.get(&key, &value, MDB_FIRST);; rc = cursor.get(&key, &value, MDB_NEXT)) {
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return lmdb_status("mdb_cursor_get dedupe", rc);
    std::string where = "dedupe key " + in_quotes(to_view(key));
    AppendResult r;
    if (!codec::decode_dedupe(to_view(value), &r)) return data_loss(where + ": value is not 24 bytes");
    if (r.first_seq == 0 || r.first_seq > r.last_seq || r.last_seq > events) {
      return data_loss(where + ": seq range " + std::to_string(r.first_seq) + ".." +
                       std::to_string(r.last_seq) + " is outside 1.." + std::to_string(events));
    }
    for (std::uint64_t seq : {r.first_seq, r.last_seq}) {
      std::string k = codec::seq_key(seq);
      MDB_val ek = to_val(k), ev;
      codec::EventRecord rec;
      if (mdb_get(txn, s.events, &ek, &ev) != 0)
        return data_loss(where + ": seq " + std::to_string(seq) + " missing");
      if (Status st = codec::decode_record(to_view(ev), seq, &rec); !st) return st;
      if (rec.dedupe != to_view(key)) {
        return data_loss(where + ": event seq " + std::to_string(seq) + " carries key " +
                         in_quotes(rec.dedupe));
      }
      if (seq == r.last_seq && rec.version != r.stream_version) {
        return data_loss(where + ": records stream version " + std::to_string(r.stream_version) +
                         " but event seq " + std::to_string(seq) + " is version " +
                         std::to_string(rec.version));
      }
    }
  }
  return Status::ok();
}

}  // namespace

Status LmdbEventStore::verify() const {
  auto txn = impl_->begin_read();
  if (!txn) return txn.status();
  const IndexDbis dbis = impl_->index_dbis();
  auto bounds = impl_->tail_bounds(txn->get());  // data_loss when `indexed` is past the last event
  if (!bounds) return bounds.status();
  std::uint64_t events = 0;
  if (Status st = verify_events(txn->get(), dbis, bounds->through, &events); !st) return st;
  if (Status st = verify_streams(txn->get(), dbis, bounds->through); !st) return st;
  return verify_dedupe(txn->get(), dbis, bounds->through);
}

}  // namespace voxlog
