// The event store's single writer: takes everything pending, writes it in one LMDB transaction, commits
// (durably) and hands the batch to the publisher thread, which answers every appender, then publishes the
// committed events in seq order. The two overlap: the next transaction is written while the last batch
// is being answered.
#include <chrono>
#include <string_view>

#include "eventstore/codec.hpp"
#include "eventstore/store_impl.hpp"

namespace voxlog {

using lmdb_handle::lmdb_status;
using lmdb_handle::to_val;
using lmdb_handle::to_view;
using lmdb_handle::Txn;

void LmdbEventStore::Impl::writer_loop() {
  for (;;) {
    std::vector<PendingAppend> batch;
    if (!take_batch(&batch)) {  // stopping, and everything pending has been written
      std::lock_guard<std::mutex> done(written_mu);
      writer_done = true;
      written_cv.notify_one();
      return;
    }
    WrittenBatch done = commit_batch(std::move(batch));
    std::lock_guard<std::mutex> lock(written_mu);
    written.push_back(std::move(done));
    written_cv.notify_one();
  }
}

WrittenBatch LmdbEventStore::Impl::commit_batch(std::vector<PendingAppend> batch) {
  WrittenBatch out;
  auto start = std::chrono::steady_clock::now();
  Status failure;
  for (;;) {
    out.answers.clear();
    bool map_full = false;
    failure = write_batch(batch, &out.answers, &map_full);
    if (!failure) recent.withdraw_from(last_seq.load() + 1);  // nothing of this attempt was committed
    if (!map_full) break;
    if (Status grown = grow_map(); !grown) {
      failure = grown;
      break;
    }
  }
  out.committed = failure.is_ok();
  note_write(failure);
  if (!out.committed) fail_all(batch, failure, &out.answers);
  out.info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.requests = std::move(batch);
  return out;
}

void LmdbEventStore::Impl::publisher_loop() {
  for (;;) {
    std::deque<WrittenBatch> ready;
    {
      std::unique_lock<std::mutex> lock(written_mu);
      written_cv.wait(lock, [this] { return writer_done || !written.empty(); });
      if (written.empty()) return;  // the writer has stopped and every batch has been answered
      ready.swap(written);
    }
    for (WrittenBatch& batch : ready) publish(batch);
  }
}

Status LmdbEventStore::Impl::grow_map() {
  std::unique_lock<std::shared_mutex> exclusive(resize_mu);  // no read txn of ours may be alive
  MDB_envinfo info;
  mdb_env_info(env, &info);
  std::size_t next = info.me_mapsize * 2;
  if (info.me_mapsize >= options.max_map_size) {
    return resource_exhausted("event store " + dir + " is full: map is at its limit of " +
                              std::to_string(options.max_map_size) + " bytes (map full)");
  }
  if (next > options.max_map_size) next = options.max_map_size;
  if (int rc = mdb_env_set_mapsize(env, next); rc != 0) return lmdb_status("mdb_env_set_mapsize", rc);
  return Status::ok();
}

Status LmdbEventStore::Impl::write_batch(std::vector<PendingAppend>& batch,
                                         std::vector<Result<AppendResult>>* answers, bool* map_full) {
  MDB_txn* raw = nullptr;
  if (int rc = mdb_txn_begin(env, nullptr, 0, &raw); rc != 0) return lmdb_status("mdb_txn_begin", rc);
  Txn txn(raw);
  auto put = [&](MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags,
                 const char* what) {
    MDB_val k = to_val(key), v = to_val(value);
    int rc = mdb_put(txn.get(), dbi, &k, &v, flags);
    if (rc == MDB_MAP_FULL) *map_full = true;
    return rc == 0 ? Status::ok() : lmdb_status(std::string("mdb_put ") + what, rc);
  };

  std::uint64_t next_seq = last_seq.load() + 1;
  // The index entries of this batch: a later request sees an earlier one of the same batch, then the
  // tail's entries, then the DBIs'.
  IndexTail added;
  std::string value;
  for (PendingAppend& p : batch) {
    if (!p.precheck) {
      answers->push_back(p.precheck);
      continue;
    }
    const AppendRequest& r = p.request;
    if (!r.dedupe.empty()) {
      const AppendResult* earlier = nullptr;
      if (auto it = added.dedupes.find(r.dedupe); it != added.dedupes.end()) {
        earlier = &it->second;
      } else if (auto in_tail = tail.dedupes.find(r.dedupe); in_tail != tail.dedupes.end()) {
        earlier = &in_tail->second;
      }
      if (earlier) {
        answers->push_back(*earlier);
        continue;
      }
      MDB_val k = to_val(r.dedupe), v;
      int rc = mdb_get(txn.get(), dedupe_dbi, &k, &v);
      if (rc == 0) {
        AppendResult original;
        if (!codec::decode_dedupe(to_view(v), &original)) {
          answers->push_back(data_loss("dedupe entry '" + r.dedupe + "' is not 24 bytes"));
        } else {
          answers->push_back(original);
        }
        continue;
      }
      if (rc != MDB_NOTFOUND) return lmdb_status("mdb_get dedupe", rc);
    }
    std::uint64_t version;
    if (auto it = added.versions.find(r.stream); it != added.versions.end()) {
      version = it->second;
    } else if (auto in_tail = tail.versions.find(r.stream); in_tail != tail.versions.end()) {
      version = in_tail->second;
    } else {
      auto current = indexed_stream_version(txn.get(), streams_dbi, r.stream);
      if (!current) return current.status();
      version = *current;
    }
    if (r.expected_version && *r.expected_version != version) {
      answers->push_back(version_conflict(r, version));
      continue;
    }
    AppendResult result;
    result.first_seq = next_seq;
    for (std::size_t i = 0; i < r.events.size(); ++i) {
      const NewEvent& e = r.events[i];
      codec::EventRecord rec{r.stream, version + 1, e.type, e.v, r.ts, r.source, r.dedupe, p.data_json[i]};
      codec::encode_event(rec, &value);
      if (Status st = put(events_dbi, codec::seq_key(next_seq), value, MDB_APPEND, "events"); !st) return st;
      added.add(next_seq, r.stream, version + 1, r.dedupe);
      recent.add(next_seq, r.stream, version + 1, r.dedupe);  // withdrawn by commit_batch on failure
      ++next_seq;
      ++version;
    }
    result.last_seq = next_seq - 1;
    result.stream_version = version;
    answers->push_back(result);
  }
  // Index entries go to the DBIs in bulk, sorted, once enough have gathered (store_index.hpp says why).
  const IndexDbis dbis = index_dbis();
  bool write_index = tail.events() + added.events() >= options.index_batch;
  if (write_index) {
    for (const IndexTail* part : {&tail, &added}) {
      if (Status st = part->write(txn.get(), dbis, next_seq - 1, map_full); !st) return st;
    }
  }
  if (int rc = txn.commit(); rc != 0) {
    if (rc == MDB_MAP_FULL) *map_full = true;
    return lmdb_status("mdb_txn_commit", rc);
  }
  if (write_index) {
    tail = IndexTail{};
    tail.through = next_seq - 1;
    recent.indexed_through(next_seq - 1);
  } else {
    tail.merge(std::move(added));
  }
  last_seq.store(next_seq - 1);
  commits.fetch_add(1);
  return Status::ok();
}

void LmdbEventStore::Impl::publish(WrittenBatch& batch) {
  const auto& answers = batch.answers;
  for (std::size_t i = 0; i < batch.requests.size(); ++i) batch.requests[i].done(answers[i]);
  if (!batch.committed) return;
  auto committed = std::make_shared<std::vector<Event>>();
  CommitInfo info = batch.info;
  info.requests = batch.requests.size();
  for (std::size_t i = 0; i < batch.requests.size(); ++i) {
    if (!answers[i] || answers[i]->duplicate) continue;
    AppendRequest& r = batch.requests[i].request;
    std::uint64_t seq = answers[i]->first_seq;
    std::uint64_t version = answers[i]->stream_version - r.events.size();
    for (NewEvent& e : r.events) {
      committed->push_back(Event{seq++, r.stream, ++version, std::move(e.type), e.v, r.ts, r.source, r.dedupe,
                                 std::move(e.data)});
    }
  }
  info.events = committed->size();
  CommitObserver observer;
  run_subscribers(std::move(committed), &observer);
  if (observer) observer(info);
}

}  // namespace voxlog
