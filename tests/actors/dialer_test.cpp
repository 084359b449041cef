// The dialer against the Twilio simulator on 127.0.0.1 and a real event store: what it records before and
// after asking Studio, refusals, batches, pause and resume, and waiting for the public URL.
#include <chrono>
#include <future>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/dialer.hpp"
#include "projections/event_types.hpp"
#include "tests/eventstore/temp_dir.hpp"
#include "tools/simulator/simulator.hpp"

using namespace voxlog;

namespace {

constexpr auto kWait = std::chrono::seconds(20);

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<EventStore> store;
  std::unique_ptr<CallsView> view;
  std::unique_ptr<sim::Simulator> simulator;
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  caf::actor dialer;

  explicit Fixture(double cps = 50, bool tell_url = true) {
    auto opened = EventStore::open(dir.sub("log"));
    REQUIRE(opened);
    store = std::move(*opened);
    auto v = CallsView::open(dir.sub("views"));
    REQUIRE(v);
    view = std::move(*v);
    auto flow = sim::load_flow_definition(VOXLOG_SOURCE_DIR "/flow.json");
    REQUIRE(flow);
    sim::SimulatorOptions options;
    options.account_sid = "AC" + std::string(32, '1');
    options.auth_token = "dialer-test-token-0123456789";
    options.flow_definition = *flow;
    options.time_scale = 100;  // calls ring for a long time: they stay in flight during the test
    auto started = sim::Simulator::start(options);
    REQUIRE(started);
    simulator = std::move(*started);
    system = std::make_unique<caf::actor_system>(config);
    DialerSettings s;
    s.store = store.get();
    s.view = view.get();
    s.client.base_url = simulator->base_url();
    s.client.account_sid = simulator->account_sid();
    s.client.auth_token = options.auth_token;
    s.client.flow_sid = simulator->flow_sid();
    s.from = "+15005550006";
    s.default_region = "GB";
    s.calls_per_second = cps;
    s.max_batch = 5;
    dialer = spawn_dialer(*system, s);
    if (tell_url) caf::anon_send(dialer, public_url_atom::value, std::string("http://127.0.0.1:9"));
  }
  ~Fixture() {
    caf::anon_send_exit(dialer, caf::exit_reason::user_shutdown);
    system->await_all_actors_done();
    dialer = nullptr;  // a detached actor's thread ends only once the last handle to it is gone
    system.reset();
  }

  DialOutcome dial(const std::string& number, const std::string& by = "desk") {
    auto answer = std::make_shared<std::promise<DialOutcome>>();
    auto done = answer->get_future();
    caf::anon_send(dialer, dial_atom::value, number, by,
                   DialReply([answer](const DialOutcome& o) { answer->set_value(o); }));
    REQUIRE(done.wait_for(kWait) == std::future_status::ready);
    return done.get();
  }
  Result<BatchAccepted> batch(std::vector<std::string> numbers) {
    auto answer = std::make_shared<std::promise<Result<BatchAccepted>>>();
    auto done = answer->get_future();
    caf::anon_send(dialer, batch_atom::value, std::move(numbers), std::string("boss"),
                   BatchReply([answer](const Result<BatchAccepted>& b) { answer->set_value(b); }));
    REQUIRE(done.wait_for(kWait) == std::future_status::ready);
    return done.get();
  }
  Result<CampaignState> control(bool pause, const std::string& id) {
    auto answer = std::make_shared<std::promise<Result<CampaignState>>>();
    auto done = answer->get_future();
    CampaignReply reply([answer](const Result<CampaignState>& c) { answer->set_value(c); });
    if (pause) {
      caf::anon_send(dialer, pause_atom::value, id, std::string("desk"), reply);
    } else {
      caf::anon_send(dialer, resume_atom::value, id, std::string("desk"), reply);
    }
    REQUIRE(done.wait_for(kWait) == std::future_status::ready);
    return done.get();
  }
  std::vector<Event> log() {
    auto all = store->read_all(0, 10000);
    REQUIRE(all);
    return *all;
  }
  std::vector<Event> of_type(const std::string& type) {
    std::vector<Event> out;
    for (auto& e : log())
      if (e.type == type) out.push_back(e);
    return out;
  }
  // Waits until the log holds an event of `type`, or gives up after kWait.
  bool eventually_has(const std::string& type) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!of_type(type).empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

}  // namespace

TEST_CASE("a call is recorded as requested, by whom, before Studio is asked, then as created") {
  Fixture f;
  DialOutcome o = f.dial("07911 123456");
  REQUIRE(o.status);
  CHECK(o.to == "+447911123456");
  CHECK(o.execution_sid.rfind("FN", 0) == 0);
  auto events = f.log();
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == event_type::call_requested);
  CHECK(events[0].stream.rfind("dial-RQ", 0) == 0);
  CHECK(events[0].data["to"] == "+447911123456");
  CHECK(events[0].data["by"] == "desk");
  CHECK(events[1].type == event_type::execution_created);
  CHECK(events[1].stream == "call-" + o.execution_sid);
  CHECK(events[1].data["request_id"] == events[0].data["request_id"]);
}

TEST_CASE("a bad number is refused and never dialled; a number in flight is refused with conflict") {
  Fixture f;
  DialOutcome bad = f.dial("not a number");
  CHECK(bad.status.code() == StatusCode::invalid_argument);
  CHECK(f.log().empty());
  REQUIRE(f.dial("+447911123456").status);
  DialOutcome again = f.dial("+447911123456");
  CHECK(again.status.code() == StatusCode::conflict);
  CHECK(again.http_status == 409);
  auto rejected = f.of_type(event_type::execution_rejected);
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].data["http_status"] == 409);
  CHECK(f.of_type(event_type::execution_created).size() == 1);  // nobody was called twice
}

TEST_CASE("a batch is answered at once, refuses bad and repeated numbers, and completes with every result") {
  Fixture f;
  auto accepted = f.batch({"+447911123401", "nonsense", "+447911123402", "+447911123401"});
  REQUIRE(accepted);
  CHECK(accepted->total == 4);
  CHECK(accepted->initiated == 2);
  auto created = f.of_type(event_type::campaign_created);
  REQUIRE(created.size() == 1);
  CHECK(created[0].data["by"] == "boss");
  CHECK(created[0].data["rejected"].size() == 2);
  REQUIRE(f.eventually_has(event_type::campaign_completed));
  auto completed = f.of_type(event_type::campaign_completed).at(0);
  CHECK(completed.stream == "batch-" + accepted->batch_id);
  CHECK(completed.data["success"] == 2);
  CHECK(completed.data["failed"] == 2);
  for (const auto& requested : f.of_type(event_type::call_requested)) {
    CHECK(requested.data["batch_id"] == accepted->batch_id);
    CHECK(requested.data["by"] == "boss");
  }
  CHECK(f.batch(std::vector<std::string>(6, "+447911123403")).status().code() ==
        StatusCode::invalid_argument);
  CHECK(f.batch({}).status().code() == StatusCode::invalid_argument);
}

TEST_CASE("a paused batch places nothing until it is resumed; unknown batches are not found") {
  Fixture f(/*cps=*/2);
  auto accepted = f.batch({"+447911123411", "+447911123412", "+447911123413", "+447911123414"});
  REQUIRE(accepted);
  auto paused = f.control(true, accepted->batch_id);
  REQUIRE(paused);
  CHECK(paused->changed);
  CHECK(paused->paused);
  auto again = f.control(true, accepted->batch_id);
  REQUIRE(again);
  CHECK_FALSE(again->changed);
  std::size_t placed = f.of_type(event_type::call_requested).size();
  CHECK(placed <= 2);  // at most the call under way when the pause came, and the first
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // more than two slots at 2 calls/s
  CHECK(f.of_type(event_type::call_requested).size() == placed);
  auto pause_event = f.of_type(event_type::campaign_paused);
  REQUIRE(pause_event.size() == 1);
  CHECK(pause_event[0].data["by"] == "desk");
  auto resumed = f.control(false, accepted->batch_id);
  REQUIRE(resumed);
  CHECK(resumed->changed);
  REQUIRE(f.eventually_has(event_type::campaign_completed));
  CHECK(f.of_type(event_type::call_requested).size() == 4);
  CHECK(f.control(true, "BTnosuchbatch").status().code() == StatusCode::not_found);
}

TEST_CASE("requests wait until the public URL the flow calls back is known") {
  Fixture f(50, /*tell_url=*/false);
  auto answer = std::make_shared<std::promise<DialOutcome>>();
  auto done = answer->get_future();
  caf::anon_send(f.dialer, dial_atom::value, std::string("+447911123421"), std::string("desk"),
                 DialReply([answer](const DialOutcome& o) { answer->set_value(o); }));
  CHECK(done.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  CHECK(f.log().empty());
  caf::anon_send(f.dialer, public_url_atom::value, std::string("http://127.0.0.1:9"));
  REQUIRE(done.wait_for(kWait) == std::future_status::ready);
  CHECK(done.get().status);
}
