// The PostgreSQL log's writer: one transaction per batch of pending appends (group commit), under the
// row lock of voxlog.log_head, which is what makes seqs dense and visible in order across nodes (SQL.md,
// "Appending"). Four round trips per batch: BEGIN + lock, look up the batch's keys and streams, write
// (events, dedupe keys, the head, NOTIFY), COMMIT.
#include <chrono>
#include <unordered_map>

#include "eventstore/pg_store_impl.hpp"

namespace voxlog {

namespace {

constexpr const char* kLockHead =
    "BEGIN; SELECT last_seq, streams, dedupe_keys FROM voxlog.log_head FOR UPDATE";

// The batch's idempotency keys already taken, and its streams' versions, as of the lock.
constexpr const char* kLookup = R"sql(
SELECT 0, key, first_seq, last_seq, stream_version FROM voxlog.dedupe WHERE key = ANY($1::text[])
UNION ALL
SELECT 1, s, 0, 0, coalesce((SELECT e.version FROM voxlog.events e WHERE e.stream = s
                              ORDER BY e.version DESC LIMIT 1), 0)
FROM unnest($2::text[]) AS s)sql";

// Plain INSERTs: a row that breaks UNIQUE(stream, version) or the dedupe key fails the statement (never
// ON CONFLICT DO NOTHING, which would report success for a write that did not happen).
constexpr const char* kWrite = R"sql(
WITH e AS (
  INSERT INTO voxlog.events (seq, stream, version, type, v, ts, source, dedupe, data)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[],
                       $7::text[], $8::text[], $9::json[])),
d AS (
  INSERT INTO voxlog.dedupe (key, first_seq, last_seq, stream_version)
  SELECT * FROM unnest($10::text[], $11::bigint[], $12::bigint[], $13::bigint[]))
UPDATE voxlog.log_head SET last_seq = $14::bigint, streams = streams + $15::bigint,
                           dedupe_keys = dedupe_keys + $16::bigint
RETURNING pg_notify('voxlog_log', $14::bigint::text))sql";

// The writer's session: a lock held by a node that stopped answering must not stop every other node.
constexpr const char* kWriterSession =
    "SET lock_timeout = '10s'; SET idle_in_transaction_session_timeout = '30s'";

std::uint64_t max_last_seq(const std::vector<Result<AppendResult>>& answers) {
  std::uint64_t last = 0;
  for (const auto& a : answers)
    if (a && !a->duplicate && a->last_seq > last) last = a->last_seq;
  return last;
}

}  // namespace

void PgEventStore::Impl::writer_loop() {
  for (;;) {
    std::vector<PendingAppend> batch;
    if (!take_batch(&batch)) {
      {
        std::lock_guard<std::mutex> done(written_mu);
        writer_done = true;
      }
      wake_publisher();
      return;
    }
    WrittenBatch done = commit_batch(std::move(batch));
    {
      std::lock_guard<std::mutex> lock(written_mu);
      written.push_back(std::move(done));
      in_flight_first = 0;
    }
    wake_publisher();
  }
}

WrittenBatch PgEventStore::Impl::commit_batch(std::vector<PendingAppend> batch) {
  WrittenBatch out;
  auto start = std::chrono::steady_clock::now();
  Status failure;
  std::size_t events = 0;
  for (int attempt = 0;; ++attempt) {
    out.answers.clear();
    bool commit_sent = false;
    events = 0;
    if (!writer_conn.usable()) {
      auto conn = pg::Conn::connect(url, shown, "voxlog writer");
      if (conn) {
        if (auto set = conn->exec(kWriterSession, "writer session"); !set) conn = set.status();
      }
      if (!conn) {
        failure = conn.status();
        break;
      }
      writer_conn = std::move(conn).value();
    }
    failure = write_batch(batch, &out.answers, &commit_sent, &events);
    if (failure) break;
    if (commit_sent) {
      // The COMMIT went out and no answer came back: it may have committed.
      if (failure.code() == StatusCode::unavailable) {
        failure = unavailable(failure.message() +
                              "; whether the batch committed is unknown: retry with the "
                              "same dedupe key");
      }
      break;
    }
    // Nothing was committed. A unique violation means the database saw a row that this writer did not
    // (only possible if something appends without the log_head lock): decide the whole batch again under
    // the lock, where that row is a dedupe hit or a version conflict, answered as such. A connection lost
    // before COMMIT rolled everything back: try once more on a new one.
    if (failure.code() == StatusCode::unavailable) writer_conn = pg::Conn();  // connect afresh
    bool again = failure.code() == StatusCode::conflict || failure.code() == StatusCode::unavailable;
    if (!again || attempt >= 2) break;
  }
  note_write(failure);
  out.committed = failure.is_ok();
  if (out.committed) {
    std::uint64_t last = max_last_seq(out.answers);
    std::uint64_t known = known_last_seq.load();
    while (last > known && !known_last_seq.compare_exchange_weak(known, last)) {
    }
    commits.fetch_add(1);
  } else {
    fail_all(batch, failure, &out.answers);
  }
  out.info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.requests = std::move(batch);
  return out;
}

Status PgEventStore::Impl::write_batch(std::vector<PendingAppend>& batch,
                                       std::vector<Result<AppendResult>>* answers, bool* commit_sent,
                                       std::size_t* events_written) {
  pg::Conn& c = writer_conn;
  auto fail = [&](Status st) {
    if (c.usable()) c.exec("ROLLBACK", "rollback");  // the connection stays usable for the next batch
    return st;
  };
  auto head = c.exec(kLockHead, "lock voxlog.log_head");
  if (!head) return fail(head.status());
  if (head->size() != 1) return fail(data_loss("voxlog.log_head at " + shown + " does not hold one row"));
  const std::uint64_t last = head->u64(0, 0);
  {
    std::lock_guard<std::mutex> lock(written_mu);
    in_flight_first = last + 1;
  }

  pg::ArrayLiteral keys, names;
  {
    std::unordered_map<std::string_view, bool> seen_keys, seen_names;
    for (const PendingAppend& p : batch) {
      if (!p.precheck) continue;
      if (!p.request.dedupe.empty() && seen_keys.emplace(p.request.dedupe, true).second)
        keys.add(p.request.dedupe);
      if (seen_names.emplace(p.request.stream, true).second) names.add(p.request.stream);
    }
  }
  auto found =
      c.exec(kLookup, {std::move(keys).finish(), std::move(names).finish()}, "look up keys and streams");
  if (!found) return fail(found.status());
  std::unordered_map<std::string, AppendResult> taken;
  std::unordered_map<std::string, std::uint64_t> versions;
  for (int i = 0; i < found->size(); ++i) {
    std::string name(found->text(i, 1));
    if (found->text(i, 0) == "0") {
      taken[name] = AppendResult{found->u64(i, 2), found->u64(i, 3), found->u64(i, 4), true};
    } else {
      versions[name] = found->u64(i, 4);
    }
  }

  // Decide each request in arrival order, as the LMDB writer does: a later request sees the earlier ones.
  pg::ArrayLiteral seqs, streams, event_versions, types, vs, tss, sources, dedupes, datas;
  pg::ArrayLiteral key_names, key_first, key_last, key_version;
  std::uint64_t next_seq = last + 1, new_streams = 0, new_keys = 0;
  for (PendingAppend& p : batch) {
    if (!p.precheck) {
      answers->push_back(p.precheck);
      continue;
    }
    const AppendRequest& r = p.request;
    if (!r.dedupe.empty()) {
      if (auto it = taken.find(r.dedupe); it != taken.end()) {
        answers->push_back(it->second);
        continue;
      }
    }
    std::uint64_t& version = versions[r.stream];
    if (r.expected_version && *r.expected_version != version) {
      answers->push_back(version_conflict(r, version));
      continue;
    }
    AppendResult result;
    result.first_seq = next_seq;
    if (version == 0) ++new_streams;
    for (std::size_t i = 0; i < r.events.size(); ++i) {
      const NewEvent& e = r.events[i];
      seqs.add(next_seq);
      streams.add(r.stream);
      event_versions.add(version + 1);
      types.add(e.type);
      vs.add(std::uint64_t{e.v});
      tss.add(std::int64_t{r.ts});
      sources.add(r.source);
      if (r.dedupe.empty()) {
        dedupes.add_null();
      } else {
        dedupes.add(r.dedupe);
      }
      datas.add(p.data_json[i]);
      ++next_seq;
      ++version;
    }
    result.last_seq = next_seq - 1;
    result.stream_version = version;
    if (!r.dedupe.empty()) {
      key_names.add(r.dedupe);
      key_first.add(result.first_seq);
      key_last.add(result.last_seq);
      key_version.add(result.stream_version);
      AppendResult original = result;
      original.duplicate = true;
      taken.emplace(r.dedupe, original);
      ++new_keys;
    }
    answers->push_back(result);
  }
  *events_written = next_seq - last - 1;
  if (next_seq == last + 1) return fail(Status::ok());  // only duplicates, conflicts and refusals

  pg::Params params{
      std::move(seqs).finish(),        std::move(streams).finish(),   std::move(event_versions).finish(),
      std::move(types).finish(),       std::move(vs).finish(),        std::move(tss).finish(),
      std::move(sources).finish(),     std::move(dedupes).finish(),   std::move(datas).finish(),
      std::move(key_names).finish(),   std::move(key_first).finish(), std::move(key_last).finish(),
      std::move(key_version).finish(), std::to_string(next_seq - 1),  std::to_string(new_streams),
      std::to_string(new_keys)};
  auto wrote = c.exec(kWrite, params, "append events");
  if (!wrote) return fail(wrote.status());
  *commit_sent = true;
  auto committed = c.exec("COMMIT", "commit");
  if (!committed) return committed.status();
  if (committed->command() != "COMMIT") {
    return internal_error("COMMIT on " + shown + " answered " + std::string(committed->command()));
  }
  return Status::ok();
}

}  // namespace voxlog
