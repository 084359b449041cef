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
// Readers that must see every acknowledged write (the read API) go through when_committed(): the view
// then commits at once instead of waiting out kCommitInterval.
//
// stop() takes in what the log committed until then and commits the view: called once nothing appends
// any more, it leaves the view equal to the log (`voxlog replay --check` agrees right after a stop).
//
// Thread-safety: start/stop from one thread (main); when_committed from any thread; everything else
// happens on the projector's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actors/broadcaster.hpp"
#include "eventstore/store.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

class Projector {
 public:
  Projector(EventStore& store, CallsView& view, broadcaster_actor broadcaster);
  ~Projector();

  // Called on the projector's thread with every live change of a call row that names a campaign (batchId),
  // after the view staged it (not for the catch-up at start: the campaign actors read the view then).
  // Set before start().
  void on_campaign_call(std::function<void(const CallRow&)> fn) { on_campaign_call_ = std::move(fn); }

  Status start();
  void stop();

  // Runs `read` once the view has committed every event through `seq` (pass the log's last_seq() to
  // read your own writes): at once on this thread if it has, else on the projector's thread right after
  // the commit that gets there. When the view cannot commit, or the projector stops, waiting reads run
  // anyway, against what the view has.
  void when_committed(std::uint64_t seq, std::function<void()> read);

 private:
  struct WaitingRead {
    std::uint64_t seq;
    std::function<void()> read;
  };

  void run();
  Status apply_pending(const std::vector<Change::Commit>& commits);
  Status catch_up_from_log();
  Status commit_view();
  // Runs the waiting reads the view now serves (`through` its last commit), or all of them.
  void release_reads(std::uint64_t through, bool all);

  static constexpr std::chrono::milliseconds kCommitInterval{20};
  static constexpr std::size_t kMaxStaged = 50000;  // events; keeps one transaction's dirty pages bounded

  EventStore& store_;
  CallsView& view_;
  broadcaster_actor broadcaster_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<const std::vector<Event>>> pending_;
  std::vector<WaitingRead> waiting_reads_;
  std::uint64_t committed_through_ = 0;  // the view's checkpoint as of its last commit
  bool stopping_ = false;
  bool view_failing_ = false;  // the last view commit failed (a full disk): reads do not wait for the next
  std::uint64_t subscription_ = 0;
  std::thread thread_;
  std::chrono::steady_clock::time_point last_commit_{};  // projector thread only, like staged_events_
  std::size_t staged_events_ = 0;
  std::function<void(const CallRow&)> on_campaign_call_;
  bool live_ = false;  // past start()'s catch-up
};

}  // namespace voxlog
