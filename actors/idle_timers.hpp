// IdleTimers: the wake-ups that tell idle call actors to consider retiring, kept in one heap and fired by
// one sweeper actor every `resolution` instead of one CAF timer per actor.
//
// Why: every CAF delayed message is a round trip through the actor clock's thread. A call actor arms
// about two timers in its life (one while the call is live, a shorter one when it ends), and at 11k
// webhooks/s the clock thread woke 2,000-2,800 times per second to deliver them. Retirement does not
// need millisecond precision, so the timers are batched: the sweeper wakes once per `resolution` and
// sends every actor whose time has come its (tick, generation).
//
// Contract: wake(at, actor, generation) makes the sweeper send `actor` (tick, generation) at the first
// sweep at or after `at` (so up to `resolution` late), unless the actor has exited by then (timers hold
// the actor weakly). An entry stays until its time even when a newer one has replaced it (the actor
// ignores a stale generation): a live call's 10-minute wake-up outlives the call's actor, and holds only
// the exited actor's storage block (a weak reference keeps CAF's allocation, not the actor's state).
// stop() ends the sweeper; later wake() calls are dropped.
//
// Thread-safety: wake() and stop() may be called from any thread. The sweeper shares the heap, so the
// IdleTimers object may be destroyed while the sweeper is still finishing its last sweep.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <caf/all.hpp>

namespace voxlog {

// The sweeper's protocol: (tick) from itself every resolution; (stop). An actor woken gets
// (tick, generation).
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;

class IdleTimers {
 public:
  IdleTimers(caf::actor_system& system, std::chrono::milliseconds resolution);
  ~IdleTimers();
  IdleTimers(const IdleTimers&) = delete;
  IdleTimers& operator=(const IdleTimers&) = delete;

  void wake(caf::actor_clock::time_point at, const caf::actor_addr& actor, std::uint64_t generation);
  void stop();

  struct Heap;  // shared with the sweeper

 private:
  std::shared_ptr<Heap> heap_;
  caf::actor sweeper_;
};

}  // namespace voxlog
