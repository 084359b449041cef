// ReadBarrier: how code outside the actors (the HTTP edge) reads its own writes from a view.
//
// Contract: when_committed(seq, read) runs `read` once the projection has committed every event through
// `seq` (pass the log's last_seq() to read your own writes): at once on the caller's thread when the view
// has (the common case, no message at all), else on the barrier's own thread, once the projection actor
// answers its `await` request. When the view cannot commit, or the projection has stopped, the read runs
// anyway, against what the view has. Reads that wait run one at a time on that thread (they may block on
// LMDB; none of them runs on the projection actor or on the scheduler's threads).
//
// Thread-safety: when_committed from any thread. Construct, stop and destroy on one thread (main), after
// the projection has stopped.
#pragma once

#include <cstdint>
#include <functional>

#include <caf/all.hpp>

#include "actors/projection/projection.hpp"

namespace voxlog {

using ViewRead = std::function<void()>;

class ReadBarrier {
 public:
  ReadBarrier(caf::actor_system& system, ProjectionHandle projection);
  ~ReadBarrier();
  ReadBarrier(const ReadBarrier&) = delete;
  ReadBarrier& operator=(const ReadBarrier&) = delete;

  void when_committed(std::uint64_t seq, ViewRead read);
  // Ends the barrier's thread (shutdown, after the projection has stopped: no read waits any more).
  void stop();
  std::uint64_t committed_through() const { return projection_.committed_through->load(); }

 private:
  ProjectionHandle projection_;
  caf::actor waiter_;  // asks the projection on behalf of callers that are not actors
};

}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::ViewRead)
