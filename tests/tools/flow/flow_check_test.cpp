#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tools/flow/flow_check.hpp"

using nlohmann::json;
using voxlog::check_flow;

namespace {

json load(const std::string& relative) {
  std::ifstream in(std::string(VOXLOG_SOURCE_DIR) + "/" + relative);
  REQUIRE(in.good());
  return json::parse(in);
}

json& state_named(json& flow, const std::string& name) {
  for (auto& state : flow["states"]) {
    if (state["name"] == name) return state;
  }
  FAIL("no state " << name);
  throw;
}

// Exactly one problem, containing every fragment.
void check_single_problem(const json& flow, const std::vector<std::string>& fragments) {
  auto problems = check_flow(flow);
  INFO(json(problems).dump(2));
  REQUIRE(problems.size() == 1);
  for (const auto& fragment : fragments) CHECK_THAT(problems[0], Catch::Contains(fragment));
}

}  // namespace

TEST_CASE("the repository's flow.json passes", "[flow]") {
  auto problems = check_flow(load("flow.json"));
  INFO(json(problems).dump(2));
  CHECK(problems.empty());
}

TEST_CASE("the Node app's seed flow fails on its hard-coded ngrok host", "[flow]") {
  auto problems = check_flow(load("tests/tools/flow/fixtures/seed-flow.json"));
  INFO(json(problems).dump(2));
  REQUIRE_FALSE(problems.empty());
  bool reported = false;
  for (const auto& problem : problems) {
    reported = reported || (problem.find("state 'set_variables_1'") == 0 &&
                            problem.find("'NGROK_URL' hard-codes the webhook host "
                                         "'https://423c-159-146-51-32.ngrok-free.app'") != std::string::npos);
  }
  CHECK(reported);
}

TEST_CASE("broken copies of flow.json fail with precise messages", "[flow]") {
  const json good = load("flow.json");
  REQUIRE(check_flow(good).empty());

  SECTION("a next that names no state") {
    json flow = good;
    state_named(flow, "init")["transitions"][0]["next"] = "kall";
    check_single_problem(flow, {"state 'init'", "transition 'next' goes to 'kall', which is not a state"});
  }
  SECTION("an unknown widget type") {
    json flow = good;
    state_named(flow, "goodbye")["type"] = "say-and-play";
    check_single_problem(flow, {"state 'goodbye'", "unknown widget type 'say-and-play'"});
  }
  SECTION("an event the widget does not have") {
    json flow = good;
    state_named(flow, "report_busy")["transitions"][1]["event"] = "fail";
    check_single_problem(flow, {"state 'report_busy'", "event 'fail' is not a make-http-request event"});
  }
  SECTION("a webhook to a route voxlogd does not serve") {
    json flow = good;
    state_named(flow, "report_busy")["properties"]["url"] =
        "{{flow.variables.public_url}}/api/calls/webhook/status";
    check_single_problem(
        flow, {"state 'report_busy'", "'/api/calls/webhook/status' is not a voxlogd webhook route"});
  }
  SECTION("a webhook to a hard-coded host") {
    json flow = good;
    state_named(flow, "report_busy")["properties"]["url"] = "https://abc.ngrok.io/api/calls/webhooks/status";
    check_single_problem(flow, {"state 'report_busy'", "hard-codes its host"});
  }
  SECTION("a JSON body without execution_sid") {
    json flow = good;
    state_named(flow, "report_busy")["properties"]["body"] =
        R"({"event": "busy", "to": "{{contact.channel.address}}"})";
    check_single_problem(flow, {"state 'report_busy'", "execution_sid"});
  }
  SECTION("a JSON body that is not JSON") {
    json flow = good;
    state_named(flow, "report_busy")["properties"]["body"] = R"({"execution_sid": "{{flow.sid}}", })";
    check_single_problem(flow, {"state 'report_busy'", "not a JSON object"});
  }
  SECTION("two states with one name") {
    json flow = good;
    state_named(flow, "goodbye")["name"] = "confirmed";
    auto problems = check_flow(flow);
    INFO(json(problems).dump(2));
    // The rename also orphans every transition to 'goodbye'.
    CHECK(std::count_if(problems.begin(), problems.end(), [](const std::string& p) {
            return p == "state 'confirmed': the name is used by more than one state";
          }) == 1);
  }
  SECTION("an initial_state that is not a state, and missing flags") {
    json flow = good;
    flow["initial_state"] = "Start";
    flow.erase("flags");
    auto problems = check_flow(flow);
    CHECK(problems == std::vector<std::string>{"'flags.allow_concurrent_calls' must be a boolean",
                                               "'initial_state' is 'Start', which is not a state"});
  }
  SECTION("a required property is missing") {
    json flow = good;
    state_named(flow, "call")["properties"].erase("to");
    check_single_problem(flow, {"state 'call'", "property 'to' is required"});
  }
}

TEST_CASE("Liquid outside JSON strings is allowed in bodies", "[flow]") {
  json flow = {
      {"description", "minimal"},
      {"initial_state", "Trigger"},
      {"flags", {{"allow_concurrent_calls", true}}},
      {"states",
       {{{"name", "Trigger"},
         {"type", "trigger"},
         {"transitions", {{{"event", "incomingRequest"}, {"next", "notify"}}}},
         {"properties", json::object()}},
        {{"name", "notify"},
         {"type", "make-http-request"},
         {"transitions", {{{"event", "success"}}, {{"event", "failed"}}}},
         {"properties",
          {{"method", "POST"},
           {"content_type", "application/json;charset=utf-8"},
           {"url", "{{ flow.data.base }}/api/calls/webhooks/flow"},
           {"body", R"({"execution_sid": "{{flow.sid}}", "attempt": {{flow.variables.attempt | plus: 1}},)"
                    R"( "note": "a \"quoted\" {{widgets.x.y}}"})"}}}}}}};
  auto problems = check_flow(flow);
  INFO(json(problems).dump(2));
  CHECK(problems.empty());
}

TEST_CASE("input that is not a flow at all", "[flow]") {
  CHECK(check_flow(json::array()) == std::vector<std::string>{"the flow definition is not a JSON object"});
  auto problems = check_flow(json::object());
  CHECK(problems.size() == 3);
}

TEST_CASE("flow.json reads only flow.data names that voxlog sends", "[flow][flow-data]") {
  const json flow = load("flow.json");
  auto reads = voxlog::flow_data_reads(flow);
  std::vector<std::string> names;
  for (const auto& [name, states] : reads) names.push_back(name);
  CHECK(names == std::vector<std::string>{"appointment_day", "appointment_time", "cancel_message",
                                          "confirm_message", "goodbye_message", "machine_message", "message",
                                          "name", "place", "public_url", "voicemail_prompt"});
  CHECK(reads["name"] == std::vector<std::string>{"personalise"});
  CHECK(reads["public_url"] == std::vector<std::string>{"init"});
  CHECK(voxlog::flow_data_warnings(flow).empty());
}

TEST_CASE("a flow.data name voxlog never sends is a warning, not a problem", "[flow][flow-data]") {
  json flow = load("flow.json");
  state_named(flow, "goodbye")["properties"]["say"] =
      "{{ flow.data.doctor | default: 'Your doctor' }} says goodbye, {{flow.data['ward']}}.";
  state_named(flow, "check_attempts")["transitions"][1]["conditions"][0]["arguments"][0] =
      "{{flow.data.doctor}}";
  // Not reads: plain text, a longer name, a path that only ends in flow.data.
  state_named(flow, "cancelled")["properties"]["say"] =
      "flow.data.plain {{flow.database}} {{widgets.flow.data.nested}} {{flow.data.cancel_message}}";
  CHECK(check_flow(flow).empty());
  auto reads = voxlog::flow_data_reads(flow);
  CHECK(reads["doctor"] == std::vector<std::string>{"check_attempts", "goodbye"});
  CHECK_FALSE(reads.count("plain"));
  CHECK_FALSE(reads.count("nested"));
  CHECK_FALSE(reads.count("base"));
  CHECK_FALSE(reads.count("confirm_text"));
  auto warnings = voxlog::flow_data_warnings(flow);
  INFO(json(warnings).dump(2));
  REQUIRE(warnings.size() == 2);
  CHECK_THAT(warnings[0], Catch::StartsWith("flow.data.doctor (read by 'check_attempts', 'goodbye') is not a "
                                            "parameter voxlog sends"));
  CHECK_THAT(warnings[0], Catch::Contains("a 'doctor' column"));
  CHECK_THAT(warnings[1], Catch::StartsWith("flow.data.ward (read by 'goodbye')"));
  // Every key voxlog sends is known, whether or not flow.json reads it.
  for (const char* sent : {"campaign_id", "attempt", "appointment_at", "tz"}) {
    CHECK(std::find(voxlog::kVoxlogFlowData.begin(), voxlog::kVoxlogFlowData.end(), sent) !=
          voxlog::kVoxlogFlowData.end());
  }
}
