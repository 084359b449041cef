// The dialer against the Twilio simulator on 127.0.0.1 and a real event store: what it records before and
// after asking Studio, refusals (bad numbers, calls in flight, the do-not-call list), campaign calls, a slow
// create beside a quick one, and waiting for the public URL.
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/ask.hpp"
#include "actors/dialer.hpp"
#include "projections/event_types.hpp"
#include "tests/projections/log_and_view.hpp"
#include "tools/simulator/simulator.hpp"

using namespace voxlog;

namespace {

constexpr auto kWait = std::chrono::seconds(20);

struct Fixture : test::LogAndView {
  std::unique_ptr<sim::Simulator> simulator;
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  dialer_actor dialer;

  explicit Fixture(double cps = 50, bool tell_url = true) {
    auto flow = sim::load_flow_definition(VOXLOG_SOURCE_DIR "/flow.json");
    REQUIRE(flow);
    sim::SimulatorOptions options;
    options.account_sid = "AC" + std::string(32, '1');
    options.auth_token = "dialer-test-token-0123456789";
    options.flow_definition = *flow;
    options.time_scale = 100;  // calls ring for a long time: they stay in flight during the test
    options.more_accounts.push_back({"AC" + std::string(32, '2'), "dialer-test-uk-token-0123456", ""});
    auto started = sim::Simulator::start(options);
    REQUIRE(started);
    simulator = std::move(*started);
    system = std::make_unique<caf::actor_system>(config);
    DialerSettings s;
    s.store = store.get();
    s.view = view.get();
    DialAccount main{"default", "", {}, "+15005550006"};
    main.client.base_url = simulator->base_url();
    main.client.account_sid = simulator->account_sid();
    main.client.auth_token = options.auth_token;
    main.client.flow_sid = simulator->flow_sid();
    DialAccount uk{"uk", "uk", main.client, "+441234567890"};
    uk.client.account_sid = options.more_accounts[0].account_sid;
    uk.client.auth_token = options.more_accounts[0].auth_token;
    uk.client.flow_sid = simulator->flow_sid_for(uk.client.account_sid);
    s.accounts = {main, uk};
    s.default_region = "GB";
    s.max_cps = cps;
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
    DialRequest request;
    request.number = number;
    request.by = by;
    return dial(std::move(request));
  }
  DialOutcome dial(DialRequest request) {
    auto answer = std::make_shared<std::promise<DialOutcome>>();
    auto done = answer->get_future();
    ask(
        dialer, caf::infinite, [answer](DialOutcome& o) { answer->set_value(o); },
        [answer](caf::error&) {
          answer->set_value({"", "", "", internal_error("the dialer failed")});
        },
        dial_atom::value, std::move(request));
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

TEST_CASE("a bad number is refused and never dialled, a number in flight is refused with conflict") {
  Fixture f;
  DialOutcome bad = f.dial("not a number");
  CHECK(bad.status.code() == StatusCode::invalid_argument);
  CHECK(f.log().empty());
  REQUIRE(f.dial("+447911123456").status);
  DialOutcome again = f.dial("+447911123456");
  CHECK(again.status.code() == StatusCode::conflict);
  CHECK(again.http_status == 409);
  CHECK(f.of_type(event_type::call_requested).size() == 1);     // refused before anything was asked
  CHECK(f.of_type(event_type::execution_created).size() == 1);  // nobody was called twice
}

TEST_CASE("a number on the do-not-call list is refused and never dialled") {
  Fixture f;
  AppendRequest request;
  request.stream = "dnc";
  request.events = {{event_type::dnc_added, {{"phone", "+447911123461"}, {"by", "t"}}}};
  auto added = f.store->append_sync(std::move(request));
  REQUIRE(added);
  auto all = f.log();
  REQUIRE(f.view->apply_batch(all));
  DialOutcome o = f.dial("+447911123461");
  CHECK(o.status.code() == StatusCode::failed_precondition);
  CHECK(o.do_not_call);
  CHECK(f.of_type(event_type::call_requested).empty());
  CHECK(f.dial("+447911123462").status);
}

TEST_CASE(
    "a campaign call carries its campaign, phone, attempt and Parameters, a request id is placed once") {
  Fixture f;
  DialRequest r;
  r.number = "+447911123471";
  r.by = "boss";
  r.campaign_id = "CMtest";
  r.attempt = 2;
  r.request_id = "RQcampaign0001";
  r.parameters = {{"name", "Ada"}};
  DialOutcome o = f.dial(r);
  REQUIRE(o.status);
  for (const char* type : {event_type::call_requested, event_type::execution_created}) {
    auto events = f.of_type(type);
    REQUIRE(events.size() == 1);
    CHECK(events[0].data["campaign_id"] == "CMtest");
    CHECK(events[0].data["phone"] == "+447911123471");
    CHECK(events[0].data["attempt"] == 2);
  }
  CHECK(f.of_type(event_type::call_requested)[0].data["dnc_checked"] == true);
  // Asked again for the same request id (as recovery might), nothing is placed.
  r.number = "+447911123472";
  DialOutcome again = f.dial(r);
  CHECK(again.status.code() == StatusCode::failed_precondition);
  CHECK(f.of_type(event_type::execution_created).size() == 1);
}

TEST_CASE("a slow Twilio create delays only its own call") {
  Fixture f;
  // The next create takes 3 s; another worker places the second call meanwhile.
  auto sim = f.simulator->base_url();
  std::string cmd =
      "curl -s -X POST -H 'Content-Type: application/json' -d '{\"slow_ms\":3000,\"slow_requests\":1}' " +
      sim + "/__sim/faults > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto slow = std::async(std::launch::async, [&] { return f.dial("+447911123481"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  DialOutcome quick = f.dial("+447911123482");
  REQUIRE(quick.status);
  CHECK(slow.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);  // still being placed
  CHECK(slow.get().status);
  auto created = f.of_type(event_type::execution_created);
  REQUIRE(created.size() == 2);
  CHECK(created[0].data["to"] == "+447911123482");  // the quick one was recorded first
}

TEST_CASE("requests wait until the public URL the flow calls back is known") {
  Fixture f(50, /*tell_url=*/false);
  auto answer = std::make_shared<std::promise<DialOutcome>>();
  auto done = answer->get_future();
  DialRequest request;
  request.number = "+447911123421";
  request.by = "desk";
  ask(
      f.dialer, caf::infinite, [answer](DialOutcome& o) { answer->set_value(o); },
      [answer](caf::error&) {
        answer->set_value({"", "", "", internal_error("the dialer failed")});
      },
      dial_atom::value, std::move(request));
  CHECK(done.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  CHECK(f.log().empty());
  caf::anon_send(f.dialer, public_url_atom::value, std::string("http://127.0.0.1:9"));
  REQUIRE(done.wait_for(kWait) == std::future_status::ready);
  CHECK(done.get().status);
}

TEST_CASE("a dialer that stops answers the requests it still holds with an error") {
  Fixture f(50, /*tell_url=*/false);  // nothing is handed out: the request stays queued
  auto failed = std::make_shared<std::promise<bool>>();
  auto done = failed->get_future();
  DialRequest request;
  request.number = "+447911123422";
  request.by = "desk";
  ask(
      f.dialer, caf::infinite, [failed](DialOutcome&) { failed->set_value(false); },
      [failed](caf::error&) { failed->set_value(true); }, dial_atom::value, std::move(request));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the request is in the queue
  caf::anon_send_exit(f.dialer, caf::exit_reason::user_shutdown);
  REQUIRE(done.wait_for(kWait) == std::future_status::ready);
  CHECK(done.get());
  CHECK(f.log().empty());
}

TEST_CASE("a call names its Twilio account: created through it, with its caller ID and flow, recorded") {
  Fixture f;
  DialRequest request;
  request.number = "+447911123456";
  request.by = "desk";
  request.account = "uk";
  DialOutcome o = f.dial(std::move(request));
  REQUIRE(o.status);
  auto events = f.log();
  REQUIRE(events.size() == 2);
  CHECK(events[0].data["account"] == "uk");
  CHECK(events[0].data["region"] == "uk");
  CHECK(events[0].data["from"] == "+441234567890");
  CHECK(events[1].data["account"] == "uk");
  CHECK(events[1].data["flow_sid"] == f.simulator->flow_sid_for("AC" + std::string(32, '2')));
  CHECK(events[1].data["flow_sid"] != f.simulator->flow_sid());

  DialOutcome plain = f.dial("+447911123457");  // no account: the default
  REQUIRE(plain.status);
  CHECK(f.of_type(event_type::execution_created).back().data["account"] == "default");
  CHECK(f.of_type(event_type::execution_created).back().data["from"] == "+15005550006");

  DialRequest unknown;
  unknown.number = "+447911123458";
  unknown.account = "mars";
  DialOutcome refused = f.dial(std::move(unknown));
  CHECK(refused.status.code() == StatusCode::not_found);
  CHECK(f.log().size() == 4);  // nothing recorded for it

  // Lookups go to the named account: the uk call is found there, not in the default account.
  auto look = [&](const std::string& account, const std::string& phone) {
    auto answer = std::make_shared<std::promise<ApiResult<std::vector<Execution>>>>();
    auto done = answer->get_future();
    ask(
        f.dialer, caf::infinite, [answer](ExecutionsResult& r) { answer->set_value(r); },
        [answer](caf::error&) { answer->set_value(ApiError{internal_error("the dialer failed")}); },
        lookup_atom::value, account, phone, std::int64_t{0});
    REQUIRE(done.wait_for(kWait) == std::future_status::ready);
    return done.get();
  };
  auto in_uk = look("uk", "+447911123456");
  REQUIRE(in_uk.is_ok());
  REQUIRE(in_uk->size() == 1);
  CHECK(in_uk->front().sid == o.execution_sid);
  auto in_default = look("", "+447911123456");
  REQUIRE(in_default.is_ok());
  CHECK(in_default->empty());
}
