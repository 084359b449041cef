// LmdbEventStore: the EventStore on one LMDB environment in a directory of its own (layout in FORMAT.md);
// the default log, for one machine.
//
// Contract: EventStore's (store.hpp), plus:
// - Commits are durable with LMDB's default sync. A full map grows by itself; if the disk is full the
//   batch fails with resource_exhausted and the log stays as it was. A directory holding anything that is
//   not a voxlog event store is refused, never overwritten.
// - One writable store per directory (a lock file refuses a second process); read-only opens (the
//   `voxlog` commands) may run beside it.
// - Subscribers see exactly this process's commits, one publication per commit.
//
// Thread-safety: as EventStore.
#pragma once

#include <memory>
#include <string>

#include "eventstore/store.hpp"

namespace voxlog {

class LmdbEventStore final : public EventStore {
 public:
  // Opens (creating if missing or empty) the store in `dir`.
  static Result<std::unique_ptr<EventStore>> open(const std::string& dir, StoreOptions options = {});
  ~LmdbEventStore() override;  // drains pending appends, then stops the writer

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
  std::string describe() const override { return dir(); }

  const std::string& dir() const;

 private:
  struct Impl;
  explicit LmdbEventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxlog
