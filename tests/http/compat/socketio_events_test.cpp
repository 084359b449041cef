// The Node app's Socket.IO events as the translator computes them from committed events, and the
// Engine.IO / Socket.IO packets that carry them, without a server.
#include "http/compat/socketio_events.hpp"

#include <catch2/catch.hpp>

#include "projections/event_types.hpp"

using namespace voxlog;
using namespace voxlog::sio;
using nlohmann::json;

namespace {

Event event(std::uint64_t seq, const std::string& stream, const std::string& type, json data) {
  Event e;
  e.seq = seq;
  e.stream = stream;
  e.type = type;
  e.ts = 1711017000123;
  e.data = std::move(data);
  return e;
}

CallRow row(const std::string& status) {
  CallRow r;
  r.execution_sid = "FN1";
  r.call_sid = "CA1";
  r.to = "+447911123456";
  r.status = status;
  return r;
}

}  // namespace

TEST_CASE("a status change is a statusUpdate carrying the DialCallStatus of the webhook before it") {
  SocketIoTranslator translator;
  auto hook = translator.translate(Change(
      event(
          1, "call-FN1", event_type::webhook_received,
          {{"route", "status"}, {"params", {{"CallStatus", "in-progress"}, {"DialCallStatus", "answered"}}}}),
      std::nullopt));
  CHECK(hook.empty());  // a status webhook itself is not pushed: its effect is
  auto out = translator.translate(
      Change(event(2, "call-FN1", event_type::call_status_changed, {{"status", "in-progress"}}),
             row("in-progress")));
  REQUIRE(out.size() == 1);
  CHECK(out[0].name == "statusUpdate");
  const json& p = out[0].payload;
  CHECK(p["execution_sid"] == "FN1");
  CHECK(p["CallStatus"] == "in-progress");
  CHECK(p["status"] == "in-progress");
  CHECK(p["event"] == "in-progress");
  CHECK(p["DialCallStatus"] == "answered");
  CHECK(p["To"] == "+447911123456");
  CHECK(p["to"] == "+447911123456");
  CHECK(p["call_sid"] == "CA1");
  CHECK(p["timestamp"] == "2024-03-21T10:30:00.123Z");
  CHECK(p["seq"] == 2);

  // A webhook of another call in between: its DialCallStatus is not this call's.
  translator.translate(Change(event(3, "call-FN2", event_type::webhook_received,
                                    {{"route", "status"}, {"params", {{"DialCallStatus", "busy"}}}}),
                              std::nullopt));
  auto later = translator.translate(Change(
      event(4, "call-FN1", event_type::call_status_changed, {{"status", "completed"}}), row("completed")));
  CHECK(later.at(0).payload["DialCallStatus"].is_null());
}

TEST_CASE("a key press is a dtmfUpdate, an outcome is a dtmfUpdate with its action, then a statusUpdate") {
  SocketIoTranslator translator;
  auto press = translator.translate(
      Change(event(5, "call-FN1", event_type::digits_pressed, {{"digits", "1"}}), row("in-progress")));
  REQUIRE(press.size() == 1);
  CHECK(press[0].name == "dtmfUpdate");
  CHECK(press[0].payload["digits"] == "1");
  CHECK(press[0].payload["action"].is_null());
  CHECK(press[0].payload["is_action"] == false);
  CHECK(press[0].payload["event"] == "dtmf");
  CHECK(press[0].payload["timestamp"] == 1711017000123);  // milliseconds here, as the Node app sent them

  auto confirmed = translator.translate(
      Change(event(6, "call-FN1", event_type::appointment_confirmed, {{"digits", "1"}}), row("in-progress")));
  REQUIRE(confirmed.size() == 2);
  CHECK(confirmed[0].name == "dtmfUpdate");
  CHECK(confirmed[0].payload["action"] == "confirm_appointment");
  CHECK(confirmed[0].payload["is_action"] == true);
  CHECK(confirmed[1].name == "statusUpdate");
  CHECK(confirmed[1].payload["event"] == "confirm_appointment");
  CHECK(confirmed[1].payload["status"] == "in-progress");

  auto cancelled = translator.translate(Change(event(7, "call-FN1", event_type::appointment_cancelled,
                                                     {{"digits", "2"}, {"action", "cancel_appointment"}}),
                                               row("in-progress")));
  CHECK(cancelled.at(0).payload["action"] == "cancel_appointment");
  CHECK(action_for_event_type(event_type::voicemail_requested) == "connect_to_representative");
  CHECK(action_for_event_type(event_type::call_status_changed).empty());
}

TEST_CASE("a flow webhook is a flowUpdate with its parameters, a finished batch is bulkCallComplete twice") {
  SocketIoTranslator translator;
  auto flow = translator.translate(
      Change(event(8, "call-FN1", event_type::webhook_received,
                   {{"route", "flow"}, {"params", {{"event", "answered"}, {"execution_sid", "FN1"}}}}),
             std::nullopt));
  REQUIRE(flow.size() == 1);
  CHECK(flow[0].name == "flowUpdate");
  CHECK(flow[0].payload == json{{"event", "answered"}, {"execution_sid", "FN1"}, {"seq", 8}});

  auto done = translator.translate(Change(event(9, "batch-BT1", event_type::campaign_completed,
                                                {{"batch_id", "BT1"},
                                                 {"total", 2},
                                                 {"success", 1},
                                                 {"failed", 1},
                                                 {"results", json::array({1})},
                                                 {"errors", json::array({2})}}),
                                          std::nullopt));
  REQUIRE(done.size() == 2);
  CHECK(done[0].name == "bulkCallComplete");
  CHECK(done[1].name == "bulkCallCompleted");
  CHECK(done[0].payload == done[1].payload);
  CHECK(done[0].payload["batch_id"] == "BT1");
  CHECK(done[0].payload["total"] == 2);
  CHECK(done[0].payload["seq"] == 9);
  CHECK(
      translator
          .translate(Change(event(10, "dial-RQ1", event_type::call_requested, json::object()), std::nullopt))
          .empty());
}

TEST_CASE("packets: payloads, open, events with their seq, connect requests and answers") {
  CHECK(split_payload("4hello\x1e"
                      "2\x1e\x1e"
                      "3") == std::vector<std::string>{"4hello", "2", "3"});
  CHECK(join_payload({"40", "42[]"}) ==
        "40\x1e"
        "42[]");
  OpenInfo info;
  info.sid = "abc";
  info.ping_interval_ms = 200;
  CHECK(
      open_packet(info) ==
      R"(0{"maxPayload":1000000,"pingInterval":200,"pingTimeout":20000,"sid":"abc","upgrades":["websocket"]})");
  CHECK(event_packet({"statusUpdate", {{"a", 1}}}, 42) == R"(42["statusUpdate",{"a":1},"42"])");
  CHECK(event_packet({"x", "\xff"}, 1) ==
        "42[\"x\",\"\xef\xbf\xbd\",\"1\"]");  // bad UTF-8 replaced, not thrown

  auto plain = parse_connect("0");
  REQUIRE(plain);
  CHECK(plain->nsp == "/");
  auto with_auth = parse_connect(R"(0{"token":"t","offset":"17"})");
  REQUIRE(with_auth);
  CHECK(with_auth->auth["token"] == "t");
  CHECK(*resume_offset(with_auth->auth).value() == 17);
  auto admin = parse_connect(R"(0/admin,{"x":1})");
  REQUIRE(admin);
  CHECK(admin->nsp == "/admin");
  CHECK_FALSE(parse_connect("2"));
  CHECK_FALSE(parse_connect("0[1]"));
  CHECK_FALSE(resume_offset(json{{"offset", "seven"}}));
  CHECK_FALSE(resume_offset(json{{"offset", -1}}));
  CHECK_FALSE(resume_offset(json::object()).value().has_value());
  CHECK(*resume_offset(json{{"offset", 5}}).value() == 5);

  CHECK(connect_ok_packet("s1", "p1") == R"(40{"pid":"p1","sid":"s1"})");
  CHECK(connect_error_packet("/", "no") == R"(44{"message":"no"})");
  CHECK(connect_error_packet("/admin", "Invalid namespace") == R"(44/admin,{"message":"Invalid namespace"})");
  CHECK(engine_error(1) == json{{"code", 1}, {"message", "Session ID unknown"}});
  CHECK(engine_error(99)["message"] == "Bad request");
}

TEST_CASE(
    "a start-bulk campaign that placed every call is bulkCallComplete, other campaign events are "
    "campaignUpdate") {
  SocketIoTranslator translator;
  auto dialled =
      translator.translate(Change(event(11, "campaign-CM1", event_type::batch_dialled,
                                        {{"batch_id", "CM1"}, {"total", 3}, {"success", 3}, {"failed", 0}}),
                                  std::nullopt));
  REQUIRE(dialled.size() == 2);
  CHECK(dialled[0].name == "bulkCallComplete");
  CHECK(dialled[0].payload["batch_id"] == "CM1");
  auto queued = translator.translate(Change(event(12, "campaign-CM1", event_type::call_queued,
                                                  {{"i", 4}, {"phone", "+447911123456"}, {"attempt", 1}}),
                                            std::nullopt));
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].name == "campaignUpdate");
  CHECK(
      queued[0].payload ==
      json{
          {"campaign_id", "CM1"}, {"type", "CallQueued"}, {"i", 4}, {"phone", "+447911123456"}, {"seq", 12}});
  // A campaign's CampaignCompleted is its own news, not the Node app's batch event.
  auto completed = translator.translate(Change(
      event(13, "campaign-CM1", event_type::campaign_completed, {{"campaign_id", "CM1"}}), std::nullopt));
  REQUIRE(completed.size() == 1);
  CHECK(completed[0].name == "campaignUpdate");
}
