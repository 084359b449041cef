// decide() and the CallRow fold: what each webhook means for a call, without actors or I/O.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "actors/call_decider.hpp"
#include "projections/event_types.hpp"

using namespace voxlog;
using nlohmann::json;

namespace {

Webhook webhook(WebhookRoute route, json params) {
  Webhook w;
  w.route = route;
  w.content_type = "json";
  w.execution_sid = params.value("execution_sid", "");
  w.call_sid = params.value("CallSid", params.value("call_sid", ""));
  w.params = std::move(params);
  w.received_ms = 1000;
  return w;
}

Webhook status_callback(const std::string& status, int sequence) {
  Webhook w =
      webhook(WebhookRoute::status,
              {{"CallSid", "CA1"}, {"CallStatus", status}, {"SequenceNumber", std::to_string(sequence)}});
  w.content_type = "form";
  return w;
}

// Decides and folds, as the call actor does, returning the event types written.
std::vector<std::string> feed(CallRow& row, Webhook w) {
  std::vector<std::string> types;
  for (const NewEvent& ne : decide(row, w)) {
    Event e{row.last_seq + 1, "call-FN1", row.version + 1, ne.type, ne.v, w.received_ms,
            "twilio-webhook", "",         ne.data};
    apply(row, e);
    types.push_back(ne.type);
  }
  return types;
}

using Types = std::vector<std::string>;

}  // namespace

TEST_CASE("every webhook is recorded first, raw") {
  CallRow row;
  Webhook w = status_callback("ringing", 1);
  auto events = decide(row, w);
  REQUIRE(events.front().type == event_type::webhook_received);
  CHECK(events.front().data["params"]["CallStatus"] == "ringing");
  CHECK(events.front().data["route"] == "status");
  CHECK(w.params.empty());  // taken, not copied
}

TEST_CASE("status callbacks are ordered by SequenceNumber and never leave a terminal status") {
  CallRow row;
  CHECK(feed(row, status_callback("ringing", 1)) == Types{"WebhookReceived", "CallStatusChanged"});
  CHECK(feed(row, status_callback("completed", 3)) == Types{"WebhookReceived", "CallStatusChanged"});
  CHECK(row.status == "completed");
  CHECK(feed(row, status_callback("in-progress", 2)) == Types{"WebhookReceived"});
  CHECK(feed(row, status_callback("ringing", 9)) == Types{"WebhookReceived"});
  CHECK(row.status == "completed");
  CHECK(row.last_sequence_number == 3);
}

TEST_CASE("an older SequenceNumber does not move the status even before the call ended") {
  CallRow row;
  feed(row, status_callback("in-progress", 2));
  CHECK(feed(row, status_callback("ringing", 1)) == Types{"WebhookReceived"});
  CHECK(row.status == "in-progress");
}

TEST_CASE("the flow's event names the status, its stale call_status does not") {
  CallRow row;
  feed(row, webhook(WebhookRoute::status,
                    {{"execution_sid", "FN1"}, {"event", "answered"}, {"call_status", "in-progress"}}));
  CHECK(row.status == "in-progress");
  feed(row, webhook(WebhookRoute::status,
                    {{"execution_sid", "FN1"}, {"event", "completed"}, {"call_status", "in-progress"}}));
  CHECK(row.status == "completed");
  CHECK(row.outcome.empty());
}

TEST_CASE("busy, no answer and failed are outcomes of their own") {
  for (auto [event, outcome] : std::vector<std::pair<std::string, std::string>>{
           {"busy", "busy"}, {"no_answer", "no-answer"}, {"failed", "failed"}}) {
    CallRow row;
    feed(row, webhook(WebhookRoute::status, {{"execution_sid", "FN1"}, {"event", event}}));
    CHECK(row.outcome == outcome);
    CHECK(is_terminal_status(row.status));
  }
}

TEST_CASE("keys 1, 2 and 0 decide the appointment, the flow's action report is not a second key press") {
  CallRow row;
  CHECK(feed(row,
             webhook(WebhookRoute::dtmf, {{"execution_sid", "FN1"}, {"event", "dtmf"}, {"digits", "1"}})) ==
        Types{"WebhookReceived", "DigitsPressed", "AppointmentConfirmed"});
  CHECK(feed(row, webhook(WebhookRoute::dtmf, {{"execution_sid", "FN1"},
                                               {"event", "dtmf_action"},
                                               {"digits", "1"},
                                               {"action", "confirm_appointment"}})) ==
        Types{"WebhookReceived"});
  CHECK(row.dtmf_digits == "1");
  CHECK(row.outcome == "confirmed");
  CHECK(feed(row,
             webhook(WebhookRoute::dtmf, {{"execution_sid", "FN1"}, {"event", "dtmf"}, {"digits", "2"}})) ==
        Types{"WebhookReceived", "DigitsPressed", "AppointmentCancelled"});
  CHECK(row.outcome == "cancelled");
  CHECK(feed(row, webhook(WebhookRoute::dtmf, {{"execution_sid", "FN1"}, {"event", "dtmf"}, {"digits", "0"}}))
            .back() == "VoicemailRequested");
  CHECK(row.outcome == "voicemail");
  CHECK(feed(row,
             webhook(WebhookRoute::dtmf, {{"execution_sid", "FN1"}, {"event", "dtmf"}, {"digits", "5"}})) ==
        Types{"WebhookReceived", "DigitsPressed"});
  CHECK(row.dtmf_digits == "1205");
}

TEST_CASE("an action report whose key press report never came counts the key, a reported one does not") {
  auto action = [](const std::string& digits, const std::string& what) {
    return webhook(
        WebhookRoute::dtmf,
        {{"execution_sid", "FN1"}, {"event", "dtmf_action"}, {"digits", digits}, {"action", what}});
  };
  auto press = [](const std::string& digits) {
    return webhook(WebhookRoute::dtmf, {{"execution_sid", "FN1"}, {"event", "dtmf"}, {"digits", digits}});
  };
  CallRow row;
  CHECK(feed(row, action("1", "confirm_appointment")) ==
        Types{"WebhookReceived", "DigitsPressed", "AppointmentConfirmed"});
  CHECK(row.dtmf_digits == "1");
  CHECK(row.outcome == "confirmed");
  // The same key again in a second round, reported both ways: one more key, not two.
  CHECK(feed(row, press("1")) == Types{"WebhookReceived", "DigitsPressed"});
  CHECK(feed(row, action("1", "confirm_appointment")) == Types{"WebhookReceived"});
  CHECK(row.dtmf_digits == "11");
  // And once more with only the action report: counted.
  CHECK(feed(row, action("1", "confirm_appointment")) == Types{"WebhookReceived", "DigitsPressed"});
  CHECK(row.dtmf_digits == "111");
  CHECK(feed(row, action("2", "cancel_appointment")) ==
        Types{"WebhookReceived", "DigitsPressed", "AppointmentCancelled"});
  CHECK(row.dtmf_digits == "1112");
}

TEST_CASE("a recording and flow steps are recorded, a machine is an outcome") {
  CallRow row;
  CHECK(feed(row, webhook(WebhookRoute::flow, {{"execution_sid", "FN1"},
                                               {"event", "voicemail_recorded"},
                                               {"recording_url", "https://r/1"},
                                               {"recording_sid", "RE1"}})) ==
        Types{"WebhookReceived", "FlowEventReceived", "RecordingAvailable"});
  CHECK(row.recording_url == "https://r/1");
  CallRow machine;
  feed(machine, webhook(WebhookRoute::flow, {{"execution_sid", "FN2"}, {"event", "machine_detected"}}));
  CHECK(machine.outcome == "machine");
}

TEST_CASE("identity is learned once and never rewritten") {
  CallRow row;
  feed(row,
       webhook(
           WebhookRoute::status,
           {{"execution_sid", "FN1"}, {"call_sid", "CA1"}, {"to", "+447911123456"}, {"event", "answered"}}));
  feed(row,
       webhook(WebhookRoute::status,
               {{"execution_sid", "FN1"}, {"call_sid", "CA1"}, {"to", "+440000"}, {"event", "completed"}}));
  CHECK(row.to == "+447911123456");
  CHECK(row.execution_sid == "FN1");
  CHECK(row.call_sid == "CA1");
  CHECK(row.created_ms == 1000);
  CHECK(row.version == 4);
}
