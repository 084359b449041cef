// flow.json's personalised wording and its 9 opt-out, as the callee hears them in the simulator: the
// contact's Parameters (issue 16 item 2), graceful wording without them, the message overrides, and
// GET /__sim/executions, the record tests use to prove who was dialled (issue 16 item 9).
#include "tests/tools/simulator/sim_harness.hpp"

#include <regex>

namespace {

using namespace voxlog::sim::testing;

const json kAda = {{"name", "Ada"},
                   {"appointment_day", "Tuesday 8 December"},
                   {"appointment_time", "14:30"},
                   {"place", "Holiday Inn Basingstoke"},
                   {"campaign_id", "c-1"},
                   {"attempt", "1"}};

// What the callee to `to` heard on the one execution the harness made to that number.
json executions_to(Harness& harness, const std::string& to_in_url) {
  HttpAnswer listed = request("GET", harness.simulator->base_url() + "/__sim/executions?to=" + to_in_url);
  REQUIRE(listed.status == 200);
  return listed.body;
}

std::string joined(const json& heard) {
  std::string all;
  for (const json& line : heard) all += line.get<std::string>() + "\n";
  return all;
}

// No artefact of a missing value: "Hello .", a space before punctuation, two spaces, a Liquid leftover.
void check_fluent(const std::string& text) {
  INFO(text);
  CHECK_FALSE(std::regex_search(text, std::regex(R"( [.,])")));
  CHECK(text.find("  ") == std::string::npos);
  CHECK(text.find('~') == std::string::npos);
  CHECK(text.find("{{") == std::string::npos);
  CHECK(text.find("}}") == std::string::npos);
}

std::vector<std::string> events_of(Harness& harness, const std::string& sid) {
  std::vector<std::string> events;
  for (const ReceivedWebhook& webhook : harness.webhooks_of(sid))
    events.push_back(describe(json::parse(webhook.body)));
  return events;
}

}  // namespace

TEST_CASE("the reminder speaks the contact's name, day, time and place", "[simulator][personalisation]") {
  Harness harness;
  harness.script({{"to", "+447700900601"}, {"answer", "human"}, {"digits", "1"}});
  HttpAnswer created = harness.create("+447700900601", kFrom, kAda);
  REQUIRE(created.status == 201);
  const std::string sid = created.body["sid"];
  harness.wait_until_ended(sid);

  json listed = executions_to(harness, "%2B447700900601");
  REQUIRE(listed["executions"].size() == 1);
  const json& execution = listed["executions"][0];
  CHECK(execution["sid"] == sid);
  CHECK(execution["to"] == "+447700900601");
  CHECK(execution["from"] == kFrom);
  CHECK(execution["status"] == "ended");
  CHECK(execution["parameters"]["name"] == "Ada");
  CHECK(execution["parameters"]["attempt"] == "1");
  CHECK(execution["parameters"]["public_url"] == harness.receiver.base_url());
  CHECK_FALSE(execution["date_created"].get<std::string>().empty());

  const json& heard = execution["heard"];
  REQUIRE(heard.size() == 2);  // the reminder, then the confirmation
  const std::string reminder = heard[0];
  INFO(reminder);
  CHECK(reminder.rfind("Hello Ada. This is Happy Smile Clinics", 0) == 0);
  for (const char* part : {"Ada", "Tuesday 8 December", "14:30", "Holiday Inn Basingstoke"}) {
    CHECK_THAT(reminder, Catch::Contains(part));
  }
  CHECK_THAT(reminder,
             Catch::Contains("your appointment at Holiday Inn Basingstoke on Tuesday 8 December at 14:30."));
  CHECK_THAT(reminder, Catch::Contains("To stop receiving these calls, press 9."));
  CHECK_THAT(heard[1].get<std::string>(),
             Catch::Contains(
                 "Your appointment at Holiday Inn Basingstoke on Tuesday 8 December at 14:30 is confirmed."));
  check_fluent(joined(heard));

  // The Studio API's own views carry the same record.
  HttpAnswer steps = request("GET", harness.executions_url() + "/" + sid + "/Steps");
  CHECK(steps.body["heard"] == heard);
  HttpAnswer context = request("GET", harness.executions_url() + "/" + sid + "/Context");
  CHECK(context.body["heard"] == heard);
  CHECK(events_of(harness, sid) ==
        std::vector<std::string>{"answered", "dtmf:1", "dtmf_action:confirm_appointment", "completed"});
}

TEST_CASE("without contact data every message is still fluent", "[simulator][personalisation]") {
  Harness harness;
  struct Case {
    std::string to;
    json script;
    json parameters;
  };
  const std::vector<Case> cases = {
      {"+447700900611", {{"answer", "human"}, {"digits", "1"}}, json::object()},  // a single call
      {"+447700900612",
       {{"answer", "human"}, {"digits", "2"}},
       {{"name", ""}, {"place", ""}}},  // empty cells
      {"+447700900613", {{"answer", "human"}, {"digits", ""}}, {{"appointment_time", "09:00"}}},
      {"+447700900614", {{"answer", "machine"}}, {{"name", "Grace"}}},
  };
  std::vector<std::string> sids;
  for (const Case& c : cases) {
    json script = c.script;
    script["to"] = c.to;
    harness.script(script);
    HttpAnswer created = harness.create(c.to, kFrom, c.parameters);
    REQUIRE(created.status == 201);
    sids.push_back(created.body["sid"]);
  }
  for (const std::string& sid : sids) harness.wait_until_ended(sid);

  std::vector<json> heard;
  for (const Case& c : cases) {
    json listed = executions_to(harness, c.to);  // an unescaped + (a space once decoded) works too
    REQUIRE(listed["executions"].size() == 1);
    heard.push_back(listed["executions"][0]["heard"]);
    check_fluent(joined(heard.back()));
  }
  REQUIRE(heard[0].size() == 2);
  CHECK(heard[0][0].get<std::string>().rfind(
            "Hello. This is Happy Smile Clinics, calling to remind you of your appointment. If you're", 0) ==
        0);
  CHECK(heard[0][1].get<std::string>().rfind("Thank you. Your appointment is confirmed.", 0) == 0);
  CHECK(heard[1][0].get<std::string>().rfind("Hello. This is", 0) == 0);
  CHECK(heard[1][1].get<std::string>().rfind("Your appointment has been cancelled.", 0) == 0);
  REQUIRE(heard[2].size() == 3);  // two prompts, then goodbye
  CHECK_THAT(heard[2][0].get<std::string>(), Catch::Contains("remind you of your appointment at 09:00. If"));
  CHECK(heard[2][0] == heard[2][1]);
  CHECK(heard[2][2] == "We did not receive your choice. We will be in touch. Goodbye.");
  REQUIRE(heard[3].size() == 1);
  CHECK(heard[3][0].get<std::string>().rfind(
            "Hello Grace. This is Happy Smile Clinics, calling about your appointment. ", 0) == 0);
}

TEST_CASE("flow.data message overrides still replace the wording", "[simulator][personalisation]") {
  Harness harness;
  harness.script({{"to", "+447700900621"}, {"answer", "human"}, {"digits", "1"}});
  json parameters = kAda;
  parameters["message"] = "Custom reminder, press 1.";
  parameters["confirm_message"] = "Custom confirmation.";
  HttpAnswer created = harness.create("+447700900621", kFrom, parameters);
  REQUIRE(created.status == 201);
  harness.wait_until_ended(created.body["sid"]);
  json heard = executions_to(harness, "%2B447700900621")["executions"][0]["heard"];
  CHECK(heard == json::array({"Custom reminder, press 1.", "Custom confirmation."}));
}

TEST_CASE("pressing 9 opts out: report_opt_out posts action opt_out, then goodbye",
          "[simulator][personalisation]") {
  Harness harness;
  harness.script({{"to", "+447700900631"}, {"answer", "human"}, {"digits", "9"}});
  harness.script({{"to", "+447700900632"}, {"answer", "human"}, {"digits", "1"}});
  HttpAnswer opting = harness.create("+447700900631", kFrom, kAda);
  HttpAnswer confirming = harness.create("+447700900632", kFrom, kAda);
  REQUIRE(opting.status == 201);
  REQUIRE(confirming.status == 201);
  harness.wait_until_ended(opting.body["sid"]);
  harness.wait_until_ended(confirming.body["sid"]);

  CHECK(events_of(harness, opting.body["sid"]) ==
        std::vector<std::string>{"answered", "dtmf:9", "dtmf_action:opt_out", "completed"});
  json opt_out, confirm;
  for (const ReceivedWebhook& webhook : harness.webhooks_of(opting.body["sid"])) {
    json body = json::parse(webhook.body);
    if (body["event"] == "dtmf_action") {
      opt_out = body;
      CHECK(webhook.signature_valid);
      CHECK(webhook.target.rfind("/api/calls/webhooks/dtmf?bodySHA256=", 0) == 0);
    }
  }
  for (const ReceivedWebhook& webhook : harness.webhooks_of(confirming.body["sid"])) {
    json body = json::parse(webhook.body);
    if (body["event"] == "dtmf_action") confirm = body;
  }
  REQUIRE(opt_out.is_object());
  REQUIRE(confirm.is_object());
  CHECK(opt_out["action"] == "opt_out");
  CHECK(opt_out["digits"] == "9");
  CHECK(opt_out["widget_name"] == "reminder");
  std::vector<std::string> opt_out_keys, confirm_keys;  // the same body shape as report_confirm
  for (const auto& [key, value] : opt_out.items()) opt_out_keys.push_back(key);
  for (const auto& [key, value] : confirm.items()) confirm_keys.push_back(key);
  CHECK(opt_out_keys == confirm_keys);

  json heard = executions_to(harness, "%2B447700900631")["executions"][0]["heard"];
  REQUIRE(heard.size() == 2);
  CHECK(heard[1] == "You will not be called again. Goodbye.");
}

TEST_CASE("the random mix presses 9 only when digit_9 has a weight", "[simulator][personalisation]") {
  voxlog::sim::OutcomeMix only_nine;
  only_nine.machine = only_nine.busy = only_nine.no_answer = only_nine.failed = 0;
  only_nine.digit_1 = only_nine.digit_2 = only_nine.digit_0 = only_nine.digit_other = only_nine.digit_none =
      0;
  only_nine.digit_9 = 1;
  Harness harness(0.002, 20, only_nine);
  HttpAnswer created = harness.create("+447700900641");
  REQUIRE(created.status == 201);
  harness.wait_until_ended(created.body["sid"]);
  CHECK(events_of(harness, created.body["sid"]) ==
        std::vector<std::string>{"answered", "dtmf:9", "dtmf_action:opt_out", "completed"});
  CHECK(voxlog::sim::OutcomeMix{}.digit_9 == 0);  // the default mix never opts out
}

TEST_CASE("GET /__sim/executions lists every execution oldest first, deleted ones too", "[simulator]") {
  Harness harness(1.0);  // realistic timing: the calls are still in flight when listed
  std::vector<std::string> sids;
  for (const char* to : {"+447700900651", "+447700900652", "+447700900653"}) {
    harness.script({{"to", to}, {"answer", "no-answer"}});
    HttpAnswer created = harness.create(to, kFrom, {{"campaign_id", "c-9"}, {"attempt", "1"}});
    REQUIRE(created.status == 201);
    sids.push_back(created.body["sid"]);
  }
  REQUIRE(request("DELETE", harness.executions_url() + "/" + sids[1]).status == 204);

  HttpAnswer all = request("GET", harness.simulator->base_url() + "/__sim/executions");
  REQUIRE(all.status == 200);
  CHECK(all.body["forgotten"] == 0);
  REQUIRE(all.body["executions"].size() == 3);
  for (size_t i = 0; i < sids.size(); ++i) {
    const json& execution = all.body["executions"][i];
    CHECK(execution["sid"] == sids[i]);
    CHECK(execution["parameters"]["campaign_id"] == "c-9");
    CHECK(execution["heard"].empty());  // nobody answered yet
  }
  CHECK(all.body["executions"][0]["status"] == "active");
  CHECK(all.body["executions"][1]["status"] == "ended");  // deleted: gone from the Studio API, not from here
  CHECK(request("GET", harness.executions_url()).body["executions"].size() == 2);

  CHECK(executions_to(harness, "+447700900653")["executions"].size() == 1);
  CHECK(executions_to(harness, "%2B447700900699")["executions"].empty());
  CHECK(request("POST", harness.simulator->base_url() + "/__sim/executions", {}, "", "", "{}").status == 404);
}
