// The calls view's projection actor and its read barrier: a read that waits for the view runs once the
// view holds the events it waits for, and never stays waiting past the projection's stop; the view
// follows the log and a stop leaves it equal to the log.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <catch2/catch.hpp>

#include "actors/broadcaster.hpp"
#include "actors/projection/calls_projection.hpp"
#include "actors/projection/read_barrier.hpp"
#include "projections/event_types.hpp"
#include "tests/projections/log_and_view.hpp"

using namespace voxlog;

namespace {

struct Fixture : test::LogAndView {
  Metrics metrics;
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  broadcaster_actor broadcaster;

  Fixture() {
    system = std::make_unique<caf::actor_system>(config);
    broadcaster = spawn_broadcaster(*system, *store, *view, metrics, 0);
  }
  ~Fixture() {
    caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
    broadcaster = nullptr;
    system.reset();
  }

  std::uint64_t append_call(const std::string& sid) {
    AppendRequest r;
    r.stream = std::string(stream_prefix::call) + sid;
    r.events.push_back({event_type::call_status_changed, {{"status", "ringing"}, {"execution_sid", sid}}});
    auto done = store->append_sync(std::move(r));
    REQUIRE(done);
    return done->last_seq;
  }
};

// Waits (up to 10 s) for a read to have run; returns whether it did.
struct Ran {
  std::mutex mu;
  std::condition_variable cv;
  bool ran = false;
  bool saw_row = false;
  void set(bool row) {
    std::lock_guard<std::mutex> lock(mu);
    ran = true;
    saw_row = row;
    cv.notify_all();
  }
  bool wait() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return ran; });
  }
};

}  // namespace

// The calls view's projection actor, started (caught up) and stopped with the test.
struct Running {
  Fixture& f;
  ProjectionHandle projection;
  std::unique_ptr<ReadBarrier> reads;
  explicit Running(Fixture& fixture)
      : f(fixture),
        projection(spawn_projection(*f.system, *f.store,
                                    std::make_unique<CallsProjection>(*f.view, f.broadcaster))) {
    REQUIRE(start_projection(*f.system, projection));
    reads = std::make_unique<ReadBarrier>(*f.system, projection);
  }
  void stop() {
    if (!reads) return;
    stop_projection(*f.system, projection);
    reads->stop();
  }
  ~Running() { stop(); }
};

TEST_CASE("a read waiting for the view runs once the view has committed what it waits for") {
  Fixture f;
  Running running(f);
  for (int i = 0; i < 20; ++i) {
    std::string sid = "FN" + std::to_string(i);
    std::uint64_t seq = f.append_call(sid);
    Ran read;
    running.reads->when_committed(seq, [&] { read.set(f.view->find(sid).has_value()); });
    REQUIRE(read.wait());
    CHECK(read.saw_row);
    CHECK(f.view->checkpoint() >= seq);
    CHECK(running.reads->committed_through() >= seq);
  }
}

TEST_CASE("stopping the projection runs the reads still waiting, and later ones at once") {
  Fixture f;
  Running running(f);
  std::uint64_t seq = f.append_call("FN1");
  Ran never_committed;
  running.reads->when_committed(seq + 100, [&] { never_committed.set(false); });  // no such seq yet
  {
    std::lock_guard<std::mutex> lock(never_committed.mu);
    CHECK_FALSE(never_committed.ran);
  }
  stop_projection(*f.system, running.projection);
  REQUIRE(never_committed.wait());  // answered by the stop, on the barrier's thread
  Ran after_stop;
  running.reads->when_committed(seq + 200, [&] { after_stop.set(false); });
  CHECK(after_stop.wait());  // the projection is gone: the read runs against what the view has
  running.stop();
}

TEST_CASE("a projection started on a view behind the log catches it up before it answers, and follows it") {
  Fixture f;
  AppendRequest many;  // more than one catch-up page, in one commit
  many.stream = std::string(stream_prefix::call) + "FNold";
  for (int i = 0; i < 5000; ++i)
    many.events.push_back(
        {event_type::call_status_changed, {{"status", "ringing"}, {"execution_sid", "FNold"}}});
  REQUIRE(f.store->append_sync(std::move(many)));
  std::uint64_t before = f.store->last_seq();
  Running running(f);
  CHECK(f.view->checkpoint() == before);
  CHECK(running.reads->committed_through() == before);
  for (int i = 0; i < 50; ++i) f.append_call("FNnew" + std::to_string(i));
  running.stop();  // the stop takes in the rest of the log
  CHECK(f.view->checkpoint() == f.store->last_seq());
  CHECK(f.view->find("FNnew49").has_value());
}
