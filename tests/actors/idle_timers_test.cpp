// IdleTimers: wake-ups arrive in time order, no earlier than asked, with their generation; an actor that
// has exited is skipped; stop() ends the sweeper so the actor system can shut down.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/idle_timers.hpp"

using namespace voxlog;
using Clock = caf::actor_clock::clock_type;

namespace {

struct Ticks {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::uint64_t, Clock::time_point>> received;  // generation, when

  bool wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return received.size() >= n; });
  }
};

caf::behavior recorder(caf::event_based_actor*, Ticks* ticks) {
  return {
      [=](tick_atom, std::uint64_t generation) {
        std::lock_guard<std::mutex> lock(ticks->mu);
        ticks->received.emplace_back(generation, Clock::now());
        ticks->cv.notify_all();
      },
  };
}

}  // namespace

TEST_CASE("idle timers fire in time order, not early, and stop lets the system shut down") {
  caf::actor_system_config config;
  caf::actor_system system{config};
  Ticks ticks;
  {
    IdleTimers timers(system, std::chrono::milliseconds(5));
    auto target = system.spawn(recorder, &ticks);
    auto gone = system.spawn(recorder, &ticks);
    auto start = Clock::now();
    timers.wake(start + std::chrono::milliseconds(60), target.address(), 2);
    timers.wake(start + std::chrono::milliseconds(20), target.address(), 1);
    timers.wake(start + std::chrono::milliseconds(20), gone.address(), 99);
    caf::anon_send_exit(gone, caf::exit_reason::user_shutdown);
    gone = nullptr;  // no strong reference left: the timer's weak one finds it gone
    REQUIRE(ticks.wait_for(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // room for a wrong third tick
    std::lock_guard<std::mutex> lock(ticks.mu);
    REQUIRE(ticks.received.size() == 2);
    CHECK(ticks.received[0].first == 1);
    CHECK(ticks.received[1].first == 2);
    CHECK(ticks.received[0].second >= start + std::chrono::milliseconds(20));
    CHECK(ticks.received[1].second >= start + std::chrono::milliseconds(60));
    caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
    timers.stop();
  }
  system.await_all_actors_done();  // returns only if the sweeper has stopped
}
