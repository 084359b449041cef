// Projector: follows the log and keeps the calls view up to date, then hands each change to the
// broadcaster.
//
// Contract: start() first catches the view up from its checkpoint (synchronously: when it returns, the
// view reflects the whole log), then follows new commits on its own thread. Each log commit is staged in
// the view and published at once; the view commits at most every kCommitInterval under load (within
// kCommitInterval when the work stops), so readers of the view may lag the log by that much. Every committed
// event reaches the broadcaster exactly once, in seq order, as a Change (with the call's row for call
// events).
//
// Thread-safety: start/stop from one thread (main); everything else happens on the projector's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include <caf/all.hpp>

#include "actors/subscriber.hpp"
#include "eventstore/store.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

class Projector {
 public:
  Projector(EventStore& store, CallsView& view, caf::actor broadcaster);
  ~Projector();

  Status start();
  void stop();

 private:
  void run();
  Status apply_pending(const std::vector<Change::Commit>& commits);
  Status catch_up_from_log();
  Status commit_view();

  static constexpr std::chrono::milliseconds kCommitInterval{20};
  static constexpr std::size_t kMaxStaged = 50000;  // events; keeps one transaction's dirty pages bounded

  EventStore& store_;
  CallsView& view_;
  caf::actor broadcaster_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<const std::vector<Event>>> pending_;
  bool stopping_ = false;
  std::uint64_t subscription_ = 0;
  std::thread thread_;
  std::chrono::steady_clock::time_point last_commit_{};  // projector thread only, like staged_events_
  std::size_t staged_events_ = 0;
};

}  // namespace voxlog
