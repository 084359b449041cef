// CallDirectory with real call actors and a real event store: webhooks that race an actor's retirement are
// still answered and recorded, and a stopped directory refuses work instead of dropping it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/call_directory.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;

namespace {

struct Replies {
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, ok = 0;
  std::vector<std::string> failures;

  WebhookReply reply() {
    return WebhookReply([this](const Result<AppendResult>& r) {
      std::lock_guard<std::mutex> lock(mu);
      ++answered;
      if (r && !r->duplicate) {
        ++ok;
      } else {
        failures.push_back(r ? "duplicate" : r.status().to_string());
      }
      cv.notify_all();
    });
  }
  bool wait_for(int n, std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, limit, [&] { return answered >= n; });
  }
};

Webhook status_callback(const std::string& call_sid, int sequence) {
  Webhook w;
  w.route = WebhookRoute::status;
  w.content_type = "form";
  w.call_sid = call_sid;
  w.params = {{"CallSid", call_sid},
              {"CallStatus", sequence == 0 ? "ringing" : "in-progress"},
              {"SequenceNumber", std::to_string(sequence)}};
  w.dedupe = "test:" + call_sid + ":" + std::to_string(sequence);
  w.received_ms = 1000 + sequence;
  return w;
}

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<EventStore> store;
  Metrics metrics;
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  CallActorSettings settings;

  Fixture() {
    auto opened = EventStore::open(dir.sub("log"));
    REQUIRE(opened);
    store = std::move(*opened);
    system = std::make_unique<caf::actor_system>(config);
    settings.store = store.get();
    settings.metrics = &metrics;
    // Retire as soon as possible, so that webhooks keep arriving while actors retire.
    settings.idle_after_end = std::chrono::milliseconds(1);
    settings.idle_while_live = std::chrono::milliseconds(1);
  }
  ~Fixture() {
    system->await_all_actors_done();
    system.reset();
  }
};

}  // namespace

TEST_CASE("webhooks racing their call actor's retirement are all answered and recorded") {
  Fixture f;
  CallDirectory directory(*f.system, f.settings);
  Replies replies;
  constexpr int kCalls = 8, kPerCall = 60, kThreads = 2;
  std::atomic<int> respawns_seen{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      std::mt19937 rng(t + 1);
      for (int i = 0; i < kPerCall; ++i) {
        for (int c = t; c < kCalls; c += kThreads) {
          directory.route(status_callback("CA" + std::to_string(c), i), replies.reply());
        }
        // Quiet gaps of 0-3 ms: sometimes long enough for an actor to retire between two webhooks. Every
        // tenth round waits (up to 5 s) until some actor has retired, so retirement surely happens.
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
        for (int waited = 0; i % 10 == 9 && waited < 5000 && directory.actors_alive() == kCalls; ++waited)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (directory.actors_alive() < kCalls) respawns_seen.fetch_add(1);
      }
    });
  }
  for (auto& s : senders) s.join();
  const int total = kCalls * kPerCall;
  REQUIRE(replies.wait_for(total, std::chrono::seconds(30)));
  CHECK(replies.failures.empty());
  CHECK(replies.ok == total);
  CHECK(respawns_seen.load() > 0);  // the race was exercised: actors did retire between webhooks
  for (int c = 0; c < kCalls; ++c) {
    auto events = f.store->read_stream("call-CA" + std::to_string(c), 1, 10000);
    REQUIRE(events);
    std::set<std::string> dedupes;
    for (const Event& e : *events) dedupes.insert(e.dedupe);
    CHECK(dedupes.size() == static_cast<std::size_t>(kPerCall));  // every webhook's events, none twice
  }
  directory.stop_all();
  f.system->await_all_actors_done();  // their exit handlers call the directory: it must outlive them
}

TEST_CASE("a stopped directory answers webhooks with unavailable and spawns nothing") {
  Fixture f;
  CallDirectory directory(*f.system, f.settings);
  Replies replies;
  directory.route(status_callback("CA1", 0), replies.reply());
  REQUIRE(replies.wait_for(1, std::chrono::seconds(10)));
  directory.stop_all();
  f.system->await_all_actors_done();
  directory.route(status_callback("CA1", 1), replies.reply());
  REQUIRE(replies.wait_for(2, std::chrono::seconds(10)));
  REQUIRE(replies.failures.size() == 1);
  CHECK(replies.failures[0].find("shutting down") != std::string::npos);
  CHECK(directory.actors_alive() == 0);
  CHECK(f.store->last_seq() == 2);  // the first webhook's events only
}

TEST_CASE("a call actor whose stream was written behind its back decides again, with the same parameters") {
  Fixture f;
  f.settings.idle_after_end = f.settings.idle_while_live = std::chrono::minutes(1);  // one actor throughout
  CallDirectory directory(*f.system, f.settings);
  Replies replies;
  directory.route(status_callback("CA9", 0), replies.reply());
  REQUIRE(replies.wait_for(1, std::chrono::seconds(10)));
  // Another writer (as the dialer does) moves the stream on: the actor's expected version is now stale.
  AppendRequest outside{
      "call-CA9", {NewEvent{"ExecutionCreated", {{"sid", "FN9"}}}}, std::nullopt, {}, source::api, 0};
  REQUIRE(f.store->append_sync(std::move(outside)));
  directory.route(status_callback("CA9", 1), replies.reply());
  REQUIRE(replies.wait_for(2, std::chrono::seconds(10)));
  CHECK(replies.failures.empty());
  auto events = f.store->read_stream("call-CA9", 1, 100);
  REQUIRE(events);
  std::vector<std::string> types;
  for (const Event& e : *events) types.push_back(e.type);
  CHECK(types == std::vector<std::string>{"WebhookReceived", "CallStatusChanged", "ExecutionCreated",
                                          "WebhookReceived", "CallStatusChanged"});
  REQUIRE(events->size() == 5);
  CHECK((*events)[3].data["params"]["CallStatus"] == "in-progress");  // the retry had the parameters
  CHECK((*events)[4].data["status"] == "in-progress");
  directory.stop_all();
  f.system->await_all_actors_done();
}

TEST_CASE("the directory forgets retired calls' SIDs beyond its bound and finds them again in the view") {
  Fixture f;
  // The "view": what the test says is durable, SID -> stream, as the calls view would answer.
  std::mutex view_mu;
  std::map<std::string, std::string> view;
  std::atomic<int> lookups{0};
  StreamLookup lookup = [&](const std::string& sid) -> std::optional<std::string> {
    lookups.fetch_add(1);
    std::lock_guard<std::mutex> lock(view_mu);
    auto it = view.find(sid);
    return it == view.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  constexpr std::size_t kBound = 10;
  CallDirectory directory(*f.system, f.settings, lookup, kBound);
  Replies replies;
  constexpr int kCalls = 50;
  for (int i = 0; i < kCalls; ++i) {
    // A Studio call: the execution SID and the CallSid together, so the CallSid becomes an alias.
    Webhook w = status_callback("CA" + std::to_string(i), 0);
    w.execution_sid = "FN" + std::to_string(i);
    w.params["FlowExecutionSid"] = w.execution_sid;
    directory.route(std::move(w), replies.reply());
    std::lock_guard<std::mutex> lock(view_mu);
    view["FN" + std::to_string(i)] = view["CA" + std::to_string(i)] = "call-FN" + std::to_string(i);
  }
  REQUIRE(replies.wait_for(kCalls, std::chrono::seconds(30)));
  CHECK(replies.failures.empty());
  for (int waited = 0; directory.actors_alive() > 0 && waited < 10000; ++waited)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(directory.actors_alive() == 0);
  CHECK(directory.aliases_held() <= kBound);  // not 100: the retired calls' SIDs left memory
  // A late callback for every call, naming only its CallSid. The directory still holds the SIDs of the last
  // calls it retired (kBound SIDs: kBound / 2 calls, whichever retired last); every other call is found in
  // the view, and each callback joins its call's stream instead of starting a new one.
  int before = lookups.load();
  for (int i = 0; i < kCalls; ++i)
    directory.route(status_callback("CA" + std::to_string(i), 1), replies.reply());
  REQUIRE(replies.wait_for(2 * kCalls, std::chrono::seconds(30)));
  CHECK(replies.failures.empty());
  CHECK(lookups.load() - before >= kCalls - static_cast<int>(kBound) / 2);
  for (int i = 0; i < kCalls; ++i) {
    auto joined = f.store->read_stream("call-FN" + std::to_string(i), 1, 100);
    REQUIRE(joined);
    CHECK(joined->size() == 4);  // two events a webhook, both webhooks
    auto split = f.store->read_stream("call-CA" + std::to_string(i), 1, 100);
    REQUIRE(split);
    CHECK(split->empty());
  }
  directory.stop_all();
  f.system->await_all_actors_done();
}

TEST_CASE("a webhook reply answers exactly once, and one dropped unanswered answers unavailable") {
  std::vector<std::string> answers;
  auto record = [&answers](const Result<AppendResult>& r) {
    answers.push_back(r ? "seq " + std::to_string(r->last_seq) : r.status().to_string());
  };
  {
    WebhookReply reply(record);
    WebhookReply copy = reply;  // as CAF copies a message
    copy(AppendResult{7, 7, 1, false});
    reply(AppendResult{8, 8, 2, false});
    REQUIRE(answers == std::vector<std::string>{"seq 7"});
  }
  REQUIRE(answers.size() == 1);  // answered: nothing more when the last copy goes
  answers.clear();
  {
    WebhookReply dropped(record);
    WebhookReply copy = dropped;
    (void)copy;
  }
  REQUIRE(answers.size() == 1);
  REQUIRE(answers[0].find("unavailable") != std::string::npos);
  REQUIRE(answers[0].find("Twilio will retry") != std::string::npos);
}
