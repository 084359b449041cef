// The simulator over real HTTP on loopback: Studio API semantics, scripted call outcomes walked through
// flow.json, signed webhooks received by a stand-in for voxlogd, limits and injected faults.
#include "http/twilio_signature.hpp"
#include "tests/tools/simulator/sim_harness.hpp"

#include <map>
#include <set>

namespace {

using namespace voxlog::sim::testing;
using voxlog::sim::Simulator;
using voxlog::sim::SimulatorOptions;

std::string endpoint_of(const std::string& event) {
  static const std::set<std::string> status = {"answered", "busy", "no_answer", "failed", "completed"};
  if (status.count(event)) return "status";
  if (event == "dtmf" || event == "dtmf_action") return "dtmf";
  return "flow";
}

}  // namespace

TEST_CASE("scripted outcomes walk flow.json and report every step, signed", "[simulator]") {
  Harness harness;
  struct Case {
    json script;
    std::vector<std::string> events;
  };
  const std::vector<Case> cases = {
      {{{"answer", "human"}, {"digits", "1"}},
       {"answered", "dtmf:1", "dtmf_action:confirm_appointment", "completed"}},
      {{{"answer", "human"}, {"digits", "2"}},
       {"answered", "dtmf:2", "dtmf_action:cancel_appointment", "completed"}},
      {{{"answer", "human"}, {"digits", "0"}},
       {"answered", "dtmf:0", "dtmf_action:connect_to_representative", "voicemail_recorded", "completed"}},
      {{{"answer", "human"}, {"digits", "0"}, {"voicemail", "empty"}},
       {"answered", "dtmf:0", "dtmf_action:connect_to_representative", "voicemail_empty", "completed"}},
      {{{"answer", "human"}, {"digits", ""}}, {"answered", "gather_timeout", "completed"}},
      {{{"answer", "human"}, {"digits_sequence", {"5", "1"}}},
       {"answered", "dtmf:5", "dtmf:1", "dtmf_action:confirm_appointment", "completed"}},
      {{{"answer", "human"}, {"digits", "5"}},
       {"answered", "dtmf:5", "dtmf:5", "gather_timeout", "completed"}},
      {{{"answer", "human"}, {"digits", "1"}, {"hangup", true}},
       {"answered", "dtmf:1", "dtmf_action:confirm_appointment"}},
      {{{"answer", "human"}, {"digits", "0"}, {"hangup", true}},
       {"answered", "dtmf:0", "dtmf_action:connect_to_representative", "voicemail_recorded", "completed"}},
      {{{"answer", "machine"}}, {"answered", "machine_detected", "completed"}},
      {{{"answer", "busy"}}, {"busy"}},
      {{{"answer", "no-answer"}}, {"no_answer"}},
      {{{"answer", "failed"}}, {"failed"}},
  };

  std::vector<std::string> sids;
  for (size_t i = 0; i < cases.size(); ++i) {
    json script = cases[i].script;
    script["to"] = "+4477009000" + std::to_string(10 + i);
    harness.script(script);
    HttpAnswer created = harness.create(script["to"]);
    REQUIRE(created.status == 201);
    CHECK(created.body["status"] == "active");
    sids.push_back(created.body["sid"]);
  }
  for (const std::string& sid : sids) harness.wait_until_ended(sid);

  std::set<std::string> bodies;
  size_t total = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i << ": " << cases[i].script.dump());
    std::vector<std::string> events;
    for (const ReceivedWebhook& webhook : harness.webhooks_of(sids[i])) {
      json body = json::parse(webhook.body);
      events.push_back(describe(body));
      CHECK(webhook.signature_valid);
      CHECK_FALSE(
          voxlog::twilio::verify_json("another-token", webhook.signature, webhook.full_url, webhook.body));
      CHECK(webhook.target.rfind("/api/calls/webhooks/" + endpoint_of(body["event"]) + "?bodySHA256=", 0) ==
            0);
      CHECK(body["flow_sid"] == harness.simulator->flow_sid());
      CHECK(body["to"] == "+4477009000" + std::to_string(10 + i));
      CHECK(body["from"] == kFrom);
      CHECK(body["call_sid"].get<std::string>().size() == 34);
      CHECK(body["call_sid"].get<std::string>().rfind("CA", 0) == 0);
      CHECK_FALSE(body["timestamp"].get<std::string>().empty());
      if (body["event"] == "answered") {
        CHECK(body["answered_by"] == (cases[i].script["answer"] == "machine" ? "machine_end_beep" : "human"));
        CHECK(body["call_status"] == "in-progress");
      }
      if (body["event"] == "voicemail_recorded") {
        CHECK(body["recording_sid"].get<std::string>().rfind("RE", 0) == 0);
        CHECK(body["recording_url"].get<std::string>().find(body["recording_sid"].get<std::string>()) !=
              std::string::npos);
      }
      bodies.insert(webhook.body);
      ++total;
    }
    CHECK(events == cases[i].events);
  }
  CHECK(bodies.size() == total);  // no two steps produce byte-identical bodies
  json stats = harness.stats();
  CHECK(stats["webhooks_sent"] == total);
  CHECK(stats["webhook_results"]["200"] == total);
  CHECK(stats["active_executions"] == 0);
}

TEST_CASE("one active execution per contact, freed when the execution ends", "[simulator]") {
  Harness harness(1.0);  // realistic timing: the call stays in flight during the test
  harness.script({{"to", "+447700900201"}, {"answer", "no-answer"}});
  HttpAnswer first = harness.create("+447700900201");
  REQUIRE(first.status == 201);
  const std::string sid = first.body["sid"];
  CHECK(sid.size() == 34);
  CHECK(sid.rfind("FN", 0) == 0);

  HttpAnswer second = harness.create("+447700900201");
  CHECK(second.status == 409);
  CHECK(second.body["code"] == 20409);
  CHECK(second.body["status"] == 409);

  HttpAnswer active = request("GET", harness.executions_url() + "?Status=active");
  REQUIRE(active.status == 200);
  REQUIRE(active.body["executions"].size() == 1);
  CHECK(active.body["executions"][0]["sid"] == sid);
  CHECK(active.body["meta"]["key"] == "executions");

  HttpAnswer context = request("GET", harness.executions_url() + "/" + sid + "/Context");
  CHECK(context.status == 200);
  CHECK(context.body["context"]["flow"]["data"]["public_url"] == harness.receiver.base_url());

  HttpAnswer bad_status = request("POST", harness.executions_url() + "/" + sid, {{"Status", "paused"}});
  CHECK(bad_status.status == 400);
  HttpAnswer ended = request("POST", harness.executions_url() + "/" + sid, {{"Status", "ended"}});
  CHECK(ended.status == 200);
  CHECK(ended.body["status"] == "ended");
  CHECK(request("GET", harness.executions_url() + "?Status=active").body["executions"].empty());

  harness.script({{"to", "+447700900201"}, {"answer", "no-answer"}});
  HttpAnswer again = harness.create("+447700900201");
  REQUIRE(again.status == 201);
  CHECK(harness.stats()["rejected"]["409"] == 1);

  CHECK(request("DELETE", harness.executions_url() + "/" + again.body["sid"].get<std::string>()).status ==
        204);
  CHECK(request("GET", harness.executions_url() + "/" + again.body["sid"].get<std::string>()).status == 404);
  harness.script({{"to", "+447700900201"}, {"answer", "busy"}});
  CHECK(harness.create("+447700900201").status == 201);
}

TEST_CASE("bad credentials, unknown resources and bad input get Twilio's errors and create nothing",
          "[simulator]") {
  Harness harness;
  HttpAnswer no_auth =
      request("POST", harness.executions_url(), {{"To", "+447700900301"}, {"From", kFrom}}, "");
  CHECK(no_auth.status == 401);
  CHECK(no_auth.body["code"] == 20003);
  HttpAnswer bad_token = request("POST", harness.executions_url(), {{"To", "+447700900301"}, {"From", kFrom}},
                                 kAccount, "wrong");
  CHECK(bad_token.status == 401);
  CHECK(bad_token.text.find(kToken) == std::string::npos);

  HttpAnswer unknown_flow =
      request("POST", harness.simulator->base_url() + "/v2/Flows/FW" + std::string(32, '0') + "/Executions",
              {{"To", "+447700900301"}, {"From", kFrom}});
  CHECK(unknown_flow.status == 404);
  CHECK(unknown_flow.body["code"] == 20404);
  CHECK(request("GET", harness.executions_url() + "/FN" + std::string(32, 'a')).status == 404);

  HttpAnswer bad_to = harness.create("07700 900301");
  CHECK(bad_to.status == 400);
  CHECK(bad_to.body["code"] == 21211);
  HttpAnswer no_to = request("POST", harness.executions_url(), {{"From", kFrom}});
  CHECK(no_to.status == 400);
  HttpAnswer bad_parameters = request("POST", harness.executions_url(),
                                      {{"To", "+447700900301"}, {"From", kFrom}, {"Parameters", "[1"}});
  CHECK(bad_parameters.status == 400);

  json stats = harness.stats();
  CHECK(stats["executions_created"] == 0);
  CHECK(stats["rejected"]["401"] == 2);
  CHECK(request("GET", harness.executions_url()).body["executions"].empty());
}

TEST_CASE("more than 20 creates in a second get 429 / 20429", "[simulator]") {
  Harness harness(1.0);
  std::map<long, int> statuses;
  for (int i = 0; i < 30; ++i) {
    harness.script({{"to", "+4477009004" + std::to_string(10 + i)}, {"answer", "busy"}});
    HttpAnswer answer = harness.create("+4477009004" + std::to_string(10 + i));
    ++statuses[answer.status];
    if (answer.status == 429) CHECK(answer.body["code"] == 20429);
  }
  CHECK(statuses[201] <= 20);
  CHECK(statuses[201] >= 1);
  CHECK(statuses[429] >= 10);
  CHECK(harness.stats()["rejected"]["429"] == statuses[429]);
}

TEST_CASE("injected faults: 5xx, 429, slow answers and dropped connections", "[simulator]") {
  Harness harness(1.0);
  const std::string faults_url = harness.simulator->base_url() + "/__sim/faults";
  REQUIRE(request("POST", faults_url, {}, "", "", R"({"create_5xx": 1, "create_429": 1})").status == 200);
  HttpAnswer too_many = harness.create("+447700900501");
  CHECK(too_many.status == 429);
  HttpAnswer server_error = harness.create("+447700900501");
  CHECK(server_error.status == 500);
  CHECK(server_error.body["code"] == 20500);
  CHECK(harness.stats()["executions_created"] == 0);

  // A drop: the execution is created, but the answer never fully arrives.
  REQUIRE(request("POST", faults_url, {}, "", "", R"({"create_drop": 1})").status == 200);
  harness.script({{"to", "+447700900501"}, {"answer", "no-answer"}});
  HttpAnswer dropped = harness.create("+447700900501");
  CHECK(dropped.code != CURLE_OK);
  CHECK(harness.stats()["faults"]["drop"] == 1);
  HttpAnswer active = request("GET", harness.executions_url() + "?Status=active");
  REQUIRE(active.body["executions"].size() == 1);
  CHECK(active.body["executions"][0]["contact_channel_address"] == "+447700900501");
  CHECK(harness.create("+447700900501").status == 409);  // so a blind retry would be refused

  // A slow answer exceeds a short client timeout; the next request is fast again.
  REQUIRE(request("POST", faults_url, {}, "", "", R"({"slow_ms": 3000})").status == 200);
  harness.script({{"to", "+447700900502"}, {"answer", "busy"}});
  json parameters = {{"public_url", harness.receiver.base_url()}};
  HttpAnswer slow = request("POST", harness.executions_url(),
                            {{"To", "+447700900502"}, {"From", kFrom}, {"Parameters", parameters.dump()}},
                            kAccount, kToken, "", 300);
  CHECK(slow.code == CURLE_OPERATION_TIMEDOUT);
  CHECK(harness.stats()["faults"]["slow"] == 1);
  harness.script({{"to", "+447700900503"}, {"answer", "busy"}});
  CHECK(harness.create("+447700900503").status == 201);

  CHECK(request("POST", faults_url, {}, "", "", "not json").status == 400);
  CHECK(request("POST", harness.simulator->base_url() + "/__sim/script", {}, "", "",
                R"({"to": "+447700900504", "answer": "maybe"})")
            .status == 400);
}

TEST_CASE("flow deploy endpoints validate and keep the definition", "[simulator]") {
  Harness harness;
  const std::string flows = harness.simulator->base_url() + "/v2/Flows";
  const std::string definition = flow_json().dump();
  HttpAnswer valid =
      request("POST", flows + "/Validate",
              {{"FriendlyName", "voxlog"}, {"Status", "published"}, {"Definition", definition}});
  CHECK(valid.status == 200);
  CHECK(valid.body["valid"] == true);

  json broken = flow_json();
  broken["states"][0]["transitions"][3]["next"] = "nowhere";
  HttpAnswer invalid =
      request("POST", flows + "/Validate",
              {{"FriendlyName", "voxlog"}, {"Status", "published"}, {"Definition", broken.dump()}});
  CHECK(invalid.status == 400);
  CHECK(invalid.text.find("nowhere") != std::string::npos);

  HttpAnswer created =
      request("POST", flows, {{"FriendlyName", "voxlog"}, {"Status", "draft"}, {"Definition", definition}});
  REQUIRE(created.status == 201);
  const std::string sid = created.body["sid"];
  CHECK(sid.rfind("FW", 0) == 0);
  CHECK(created.body["revision"] == 1);
  HttpAnswer updated =
      request("POST", flows + "/" + sid,
              {{"FriendlyName", "voxlog 2"}, {"Status", "published"}, {"Definition", definition}});
  CHECK(updated.status == 200);
  CHECK(updated.body["revision"] == 2);
  HttpAnswer fetched = request("GET", flows + "/" + sid);
  CHECK(fetched.body["friendly_name"] == "voxlog 2");
  CHECK(fetched.body["definition"] == flow_json());
  CHECK(
      request("POST", flows, {{"FriendlyName", "x"}, {"Status", "published"}, {"Definition", "{"}}).status ==
      400);
}

TEST_CASE("start refuses bad options with a clear error", "[simulator]") {
  SimulatorOptions options;
  options.flow_definition = flow_json();
  auto no_token = Simulator::start(options);
  REQUIRE_FALSE(no_token.is_ok());
  CHECK(no_token.status().code() == voxlog::StatusCode::invalid_argument);

  options.auth_token = "secret-token-value";
  options.flow_definition = json::object();
  auto bad_flow = Simulator::start(options);
  REQUIRE_FALSE(bad_flow.is_ok());
  CHECK(bad_flow.status().message().find("secret-token-value") == std::string::npos);

  options.flow_definition = flow_json();
  auto first = Simulator::start(options);
  REQUIRE(first.is_ok());
  options.port = first.value()->port();
  auto taken = Simulator::start(options);
  REQUIRE_FALSE(taken.is_ok());
  CHECK(taken.status().code() == voxlog::StatusCode::unavailable);
}
