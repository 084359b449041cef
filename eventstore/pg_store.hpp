// PgEventStore: the EventStore on a PostgreSQL database (LOG_URL=postgresql://...), a log that several
// voxlogd nodes share. Schema, and how seq stays dense and in order, in SQL.md.
//
// Contract: EventStore's (store.hpp), plus:
// - Each store is one node: one writer connection that commits everything pending in one transaction
//   (group commit), under the lock of the one-row `voxlog.log_head` table, which assigns the seqs and is
//   held until COMMIT, so seqs are dense and become visible in seq order across nodes. The database
//   enforces UNIQUE(stream, version) and the dedupe key; a violation is never swallowed (the batch is
//   decided again under the lock, and what still conflicts is answered conflict). An appender is answered
//   only after COMMIT returned, with synchronous_commit=on.
// - A lost connection fails the batch with unavailable; after a COMMIT whose answer was lost the outcome
//   is unknown (retry with the same dedupe key). The writer reconnects by itself on the next batch.
// - Subscribers follow the shared log: a publisher thread reads every node's commits by seq, woken by
//   this node's commits and by NOTIFY from the others, and polls every StoreOptions::pg_poll_ms in case a
//   NOTIFY is lost. It never publishes past a gap, and answers this node's appenders before it publishes
//   their events.
// - The database must be UTF8; open() creates the `voxlog` schema if the database has none, and refuses
//   a `voxlog` schema that is not a voxlog log.
//
// Thread-safety: as EventStore. Reads use a small pool of connections of their own.
#pragma once

#include <memory>
#include <string>

#include "eventstore/store.hpp"

namespace voxlog {

class PgEventStore final : public EventStore {
 public:
  static Result<std::unique_ptr<EventStore>> open(const std::string& url, StoreOptions options = {});
  ~PgEventStore() override;  // drains pending appends, then stops the writer and the publisher

  void append(AppendRequest request, AppendCallback done) override;
  Result<AppendResult> append_sync(AppendRequest request) override;
  std::uint64_t subscribe(Subscriber subscriber) override;
  void unsubscribe(std::uint64_t id) override;
  void on_commit(CommitObserver observer) override;
  Result<std::vector<Event>> read_all(std::uint64_t after_seq, std::size_t limit) const override;
  Result<std::vector<Event>> read_stream(const std::string& stream, std::uint64_t from_version,
                                         std::size_t limit) const override;
  Result<std::optional<AppendResult>> find_dedupe(const std::string& key) const override;
  Status scan(std::uint64_t after_seq, const std::function<bool(const Event&)>& fn) const override;
  std::uint64_t last_seq() const override;
  Status last_write_status() const override;
  Result<std::uint64_t> stream_version(const std::string& stream) const override;
  Result<StoreStats> stats() const override;
  Status verify() const override;
  std::string describe() const override;
  // A session advisory lock, keyed by `name`, on a connection of its own (pg_leadership.cpp).
  std::unique_ptr<Leadership> leadership(const std::string& name) const override;

  struct Impl;

 private:
  explicit PgEventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxlog
