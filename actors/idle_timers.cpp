#include "actors/idle_timers.hpp"

#include <mutex>
#include <queue>
#include <vector>

namespace voxlog {

struct IdleTimers::Heap {
  struct Timer {
    caf::actor_clock::time_point at;
    caf::actor_addr actor;
    std::uint64_t generation;
    bool operator>(const Timer& other) const { return at > other.at; }
  };

  std::mutex mu;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers;
  bool stopped = false;

  // Takes the due timers under the lock and sends outside it: a send may wake a worker.
  void fire_due(caf::actor_clock::time_point now) {
    std::vector<Timer> due;
    {
      std::lock_guard<std::mutex> lock(mu);
      while (!timers.empty() && timers.top().at <= now) {
        due.push_back(timers.top());
        timers.pop();
      }
    }
    for (const Timer& t : due) {
      if (auto actor = caf::actor_cast<caf::actor>(t.actor))  // null once the actor has exited
        caf::anon_send(actor, tick_atom::value, t.generation);
    }
  }
};

namespace {

caf::behavior sweeper(caf::event_based_actor* self, std::shared_ptr<IdleTimers::Heap> heap,
                      std::chrono::milliseconds every) {
  self->delayed_send(self, every, tick_atom::value);
  return {
      [=](tick_atom) {
        heap->fire_due(self->clock().now());
        self->delayed_send(self, every, tick_atom::value);
      },
      [=](stop_atom) { self->quit(); },
  };
}

}  // namespace

IdleTimers::IdleTimers(caf::actor_system& system, std::chrono::milliseconds resolution)
    : heap_(std::make_shared<Heap>()), sweeper_(system.spawn(sweeper, heap_, resolution)) {}

IdleTimers::~IdleTimers() {
  stop();
}

void IdleTimers::wake(caf::actor_clock::time_point at, const caf::actor_addr& actor,
                      std::uint64_t generation) {
  std::lock_guard<std::mutex> lock(heap_->mu);
  if (!heap_->stopped) heap_->timers.push({at, actor, generation});
}

void IdleTimers::stop() {
  {
    std::lock_guard<std::mutex> lock(heap_->mu);
    if (heap_->stopped) return;
    heap_->stopped = true;
    heap_->timers = {};
  }
  caf::anon_send(sweeper_, stop_atom::value);
}

}  // namespace voxlog
