// The Node app's later dashboard shapes (issue 18) computed from a real log and Call view, without a
// server: the events feed (every field, newest first, pages across the index's marks, an exact total kept
// up to date), the monthly summary (every UTC day, the month's edges, validation), the history's field
// types (lastActivity in ms, eventType names, one dtmfActions entry per key press), and the error fields
// of every problem body.
#include "http/compat/legacy_api.hpp"

#include <catch2/catch.hpp>

#include "projections/event_types.hpp"
#include "tests/projections/log_and_view.hpp"

using namespace voxlog;
using nlohmann::json;

namespace {

namespace t = event_type;

// 2024-03-21T10:30:00.000Z
constexpr std::int64_t kT0 = 1711017000000;
constexpr std::int64_t kDay = 24 * 3600 * 1000;

struct Log : test::LogAndView {
  std::uint64_t append(const std::string& stream, std::vector<NewEvent> events, std::int64_t ts,
                       const std::string& source = source::twilio_webhook) {
    AppendRequest r;
    r.stream = stream;
    r.events = std::move(events);
    r.ts = ts;
    r.source = source;
    auto done = store->append_sync(std::move(r));
    REQUIRE(done);
    return done->last_seq;
  }

  // A webhook's batch as the call actor writes it: WebhookReceived with the raw parameters, then the
  // events it decided.
  std::uint64_t webhook(const std::string& fn, const std::string& route, json params,
                        std::vector<NewEvent> then, std::int64_t ts) {
    std::vector<NewEvent> events;
    events.push_back({t::webhook_received,
                      {{"route", route},
                       {"content_type", "application/json"},
                       {"params", params},
                       {"execution_sid", fn}}});
    for (auto& e : then) events.push_back(std::move(e));
    return append(stream_prefix::call + fn, std::move(events), ts);
  }

  void project() {
    auto events = store->read_all(view->checkpoint(), 1000000);
    REQUIRE(events);
    if (!events->empty()) REQUIRE(view->apply_batch(*events));
  }
};

json body_of(const HttpResponse& r) {
  return json::parse(r.body);
}

QueryParams query(std::initializer_list<std::pair<const std::string, std::string>> q) {
  return QueryParams(q);
}

}  // namespace

TEST_CASE("node_event_type names the Node app's three kinds of events and nothing else") {
  CHECK(node_event_type(t::call_status_changed) == "status");
  for (const char* type : {t::digits_pressed, t::appointment_confirmed, t::appointment_cancelled,
                           t::voicemail_requested, t::opt_out_requested})
    CHECK(node_event_type(type) == "dtmf");
  CHECK(node_event_type(t::flow_event_received) == "flow");
  for (const char* type : {t::webhook_received, t::execution_created, t::call_requested,
                           t::recording_available, t::campaign_created, t::call_queued})
    CHECK(node_event_type(type).empty());
}

TEST_CASE("the events feed: every field of the Node app's events, newest first, from the log") {
  Log log;
  const std::string fn = "FN1", ca = "CA1", to = "+447911123456", from = "+15005550006";
  log.append("dial-r1", {{t::call_requested, {{"request_id", "r1"}, {"to", to}, {"from", from}}}}, kT0,
             source::api);
  log.append(
      stream_prefix::call + fn,
      {{t::execution_created, {{"request_id", "r1"}, {"execution_sid", fn}, {"to", to}, {"from", from}}}},
      kT0 + 1, source::api);
  json ringing = {
      {"CallSid", ca}, {"CallStatus", "ringing"}, {"To", to}, {"From", from}, {"SequenceNumber", "0"}};
  std::uint64_t s_ringing = log.webhook(
      fn, "status", ringing,
      {{t::call_status_changed, {{"status", "ringing"}, {"previous", "queued"}, {"call_sid", ca}}}},
      kT0 + 10);
  json answered = {{"execution_sid", fn}, {"call_sid", ca}, {"event", "answered"}, {"widget_name", "call"}};
  std::uint64_t s_answered =
      log.webhook(fn, "flow", answered,
                  {{t::flow_event_received, {{"event", "answered"}, {"widget", "call"}}}}, kT0 + 20);
  json seven = {{"execution_sid", fn}, {"event", "dtmf"}, {"digits", "7"}};
  std::uint64_t s_seven = log.webhook(fn, "dtmf", seven, {{t::digits_pressed, {{"digits", "7"}}}}, kT0 + 30);
  json one = {{"execution_sid", fn}, {"event", "dtmf"}, {"digits", "1"}};
  std::uint64_t s_confirm = log.webhook(
      fn, "dtmf", one,
      {{t::digits_pressed, {{"digits", "1"}}}, {t::appointment_confirmed, {{"digits", "1"}}}}, kT0 + 40);
  // Not the Node app's kinds: no rows of the feed.
  log.webhook(fn, "dtmf", {{"execution_sid", fn}, {"event", "dtmf_action"}, {"digits", "1"}}, {}, kT0 + 50);
  log.append("campaign-c1", {{t::campaign_created, {{"name", "c"}}}}, kT0 + 55, source::api);
  // A status the system learnt (no webhook): its eventData is the event's own data.
  std::uint64_t s_done = log.append(
      stream_prefix::call + fn,
      {{t::call_status_changed, {{"status", "completed"}, {"previous", "ringing"}, {"duration", 42}}}},
      kT0 + 60, source::system);
  // Another call that opts out; its row knows no From.
  json nine = {{"execution_sid", "FN2"},
               {"event", "dtmf_action"},
               {"digits", "9"},
               {"action", "opt_out"},
               {"to", "+447911000002"}};
  std::uint64_t s_opt =
      log.webhook("FN2", "dtmf", nine,
                  {{t::digits_pressed, {{"digits", "9"}, {"from_action_report", true}}},
                   {t::opt_out_requested, {{"digits", "9"}, {"action", "opt_out"}, {"to", "+447911000002"}}}},
                  kT0 + 70);
  log.project();

  LegacyEventIndex index;
  auto r = calls_event_feed(index, *log.view, *log.store, {});
  REQUIRE(r.status == 200);
  json body = body_of(r);
  CHECK(body["success"] == true);
  CHECK(body["data"]["pagination"] == json{{"page", 1}, {"limit", 50}, {"total", 8}, {"totalPages", 1}});
  const json& events = body["data"]["events"];
  REQUIRE(events.size() == 8);

  auto call1 = [&](std::uint64_t id, const char* type, json status, json digits, json action,
                   std::int64_t time, json data) {
    return json{{"id", id},         {"execution_sid", fn}, {"CallSid", ca},    {"To", to},
                {"From", from},     {"status", status},    {"type", type},     {"digits", digits},
                {"action", action}, {"time", time},        {"eventData", data}};
  };
  json expected = json::array();
  expected.push_back({{"id", s_opt},
                      {"execution_sid", "FN2"},
                      {"CallSid", nullptr},
                      {"To", "+447911000002"},
                      {"From", nullptr},
                      {"status", nullptr},
                      {"type", "dtmf"},
                      {"digits", "9"},
                      {"action", "opt_out"},
                      {"time", kT0 + 70},
                      {"eventData", nine}});
  json plain_nine = expected.back();
  plain_nine["id"] = s_opt - 1;
  plain_nine["action"] = nullptr;
  expected.push_back(plain_nine);
  expected.push_back(call1(s_done, "status", "completed", nullptr, nullptr, kT0 + 60,
                           {{"status", "completed"}, {"previous", "ringing"}, {"duration", 42}}));
  expected.push_back(call1(s_confirm, "dtmf", nullptr, "1", "confirm_appointment", kT0 + 40, one));
  expected.push_back(call1(s_confirm - 1, "dtmf", nullptr, "1", nullptr, kT0 + 40, one));
  expected.push_back(call1(s_seven, "dtmf", nullptr, "7", nullptr, kT0 + 30, seven));
  expected.push_back(call1(s_answered, "flow", nullptr, nullptr, nullptr, kT0 + 20, answered));
  expected.push_back(call1(s_ringing, "status", "ringing", nullptr, nullptr, kT0 + 10, ringing));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("event " << i);
    CHECK(events[i] == expected[i]);
  }

  SECTION("pages from the newest, a page past the end empty") {
    json second =
        body_of(calls_event_feed(index, *log.view, *log.store, query({{"page", "2"}, {"limit", "3"}})));
    CHECK(second["data"]["pagination"] == json{{"page", 2}, {"limit", 3}, {"total", 8}, {"totalPages", 3}});
    REQUIRE(second["data"]["events"].size() == 3);
    CHECK(second["data"]["events"][0] == expected[3]);
    CHECK(second["data"]["events"][2] == expected[5]);
    json last =
        body_of(calls_event_feed(index, *log.view, *log.store, query({{"page", "3"}, {"limit", "3"}})));
    CHECK(last["data"]["events"] == json{expected[6], expected[7]});
    json beyond =
        body_of(calls_event_feed(index, *log.view, *log.store, query({{"page", "4"}, {"limit", "3"}})));
    CHECK(beyond["data"]["events"] == json::array());
    CHECK(beyond["data"]["pagination"]["total"] == 8);
  }

  SECTION("the total follows the log") {
    log.webhook(fn, "status", {{"CallStatus", "completed"}}, {{t::call_status_changed, {{"status", "x"}}}},
                kT0 + 80);
    log.append("campaign-c1", {{t::call_queued, {{"i", 0}}}}, kT0 + 81, source::system);
    json after = body_of(calls_event_feed(index, *log.view, *log.store, query({{"limit", "1"}})));
    CHECK(after["data"]["pagination"] == json{{"page", 1}, {"limit", 1}, {"total", 9}, {"totalPages", 9}});
    CHECK(after["data"]["events"][0]["status"] == "x");
  }

  SECTION("bad parameters are 400 problems that name them and the bound") {
    for (auto [q, words] : std::vector<std::pair<QueryParams, std::string>>{
             {query({{"limit", "101"}}), "'limit' must be between 1 and 100"},
             {query({{"limit", "0"}}), "'limit' must be between 1 and 100"},
             {query({{"page", "0"}}), "'page' must be between 1"},
             {query({{"page", "first"}}), "'page' must be a non-negative integer"}}) {
      auto bad = calls_event_feed(index, *log.view, *log.store, q);
      CHECK(bad.status == 400);
      json problem = body_of(bad);
      CHECK_THAT(problem["detail"].get<std::string>(), Catch::Contains(words));
      CHECK(problem["error"] == problem["detail"]);
      CHECK(problem["code"] == "invalid_argument");
    }
  }
}

TEST_CASE("the events feed pages across the index's marks exactly as a full read of the log would") {
  Log log;
  // 840 feed events in 140 calls, interleaved with other streams' events; some webhooks lie far before
  // the events they produced (more than the feed's look-behind).
  std::int64_t ts = kT0;
  for (int i = 0; i < 140; ++i) {
    std::string fn = "FN" + std::to_string(i);
    log.append(stream_prefix::call + fn,
               {{t::execution_created, {{"execution_sid", fn}, {"to", "+44" + std::to_string(i)}}}}, ++ts,
               source::api);
    log.webhook(fn, "status", {{"CallStatus", "ringing"}, {"n", i}},
                {{t::call_status_changed, {{"status", "ringing"}}}}, ++ts);
    log.webhook(fn, "flow", {{"event", "answered"}, {"n", i}},
                {{t::flow_event_received, {{"event", "answered"}}},
                 {t::call_status_changed, {{"status", "in-progress"}}}},
                ++ts);
    if (i % 7 == 0) {  // call 42's cancellation is feed event 256, the index's second mark
      log.webhook(fn, "dtmf", {{"digits", "2"}, {"n", i}, {"far", true}}, {}, ++ts);
      for (int k = 0; k < 20; ++k)
        log.append("campaign-c", {{t::call_queued, {{"i", k}}}}, ++ts, source::system);
      log.append(stream_prefix::call + fn,
                 {{t::digits_pressed, {{"digits", "2"}}}, {t::appointment_cancelled, {{"digits", "2"}}}},
                 ++ts);
    } else {
      log.webhook(fn, "dtmf", {{"digits", "1"}, {"n", i}},
                  {{t::digits_pressed, {{"digits", "1"}}}, {t::appointment_confirmed, {{"digits", "1"}}}},
                  ++ts);
    }
    log.append(stream_prefix::call + fn, {{t::call_status_changed, {{"status", "completed"}}}}, ++ts,
               source::system);
  }
  log.project();

  // The reference: every feed event of the log, newest first, with the webhook that produced it.
  auto all = log.store->read_all(0, 1000000);
  REQUIRE(all);
  std::vector<json> reference;
  std::map<std::string, json> last_webhook;
  for (const Event& e : *all) {
    if (e.type == t::webhook_received) last_webhook[e.stream] = e.data["params"];
    if (node_event_type(e.type).empty()) continue;
    json data = e.source == source::twilio_webhook ? last_webhook.at(e.stream) : e.data;
    reference.push_back({{"id", e.seq},
                         {"type", std::string(node_event_type(e.type))},
                         {"eventData", data},
                         {"execution_sid", e.stream.substr(5)}});
  }
  std::reverse(reference.begin(), reference.end());
  const std::uint64_t total = reference.size();
  REQUIRE(total ==
          840);  // six a call: ringing, the flow's step and status, a press and its action, completed

  LegacyEventIndex index;
  for (std::uint64_t limit : {1, 3, 7, 100}) {
    std::uint64_t pages = (total + limit - 1) / limit;
    for (std::uint64_t page = 1; page <= pages; ++page) {
      INFO("limit " << limit << " page " << page);
      json body = body_of(
          calls_event_feed(index, *log.view, *log.store,
                           query({{"page", std::to_string(page)}, {"limit", std::to_string(limit)}})));
      CHECK(body["data"]["pagination"]["total"] == total);
      CHECK(body["data"]["pagination"]["totalPages"] == pages);
      const json& events = body["data"]["events"];
      std::size_t first = (page - 1) * limit;
      REQUIRE(events.size() == std::min<std::size_t>(limit, total - first));
      for (std::size_t i = 0; i < events.size(); ++i) {
        const json& want = reference[first + i];
        CHECK(events[i]["id"] == want["id"]);
        CHECK(events[i]["type"] == want["type"]);
        CHECK(events[i]["eventData"] == want["eventData"]);
        CHECK(events[i]["execution_sid"] == want["execution_sid"]);
      }
    }
  }
}

TEST_CASE("the monthly summary: every UTC day of the month, inbound and outbound, from the Call view") {
  Log log;
  auto day = [](int d) { return 1706745600000 + (d - 1) * kDay; };  // 2024-02-01T00:00:00Z + d-1 days
  int n = 0;
  auto outbound = [&](std::int64_t ts, const std::string& status) {
    std::string fn = "FNo" + std::to_string(++n);
    log.append(stream_prefix::call + fn, {{t::execution_created, {{"execution_sid", fn}, {"to", "+441"}}}},
               ts, source::api);
    if (!status.empty())
      log.webhook(fn, "status", {{"CallStatus", status}}, {{t::call_status_changed, {{"status", status}}}},
                  ts + 1000);
  };
  auto inbound = [&](std::int64_t ts, const std::string& status) {
    std::string ca = "CAi" + std::to_string(++n);
    log.webhook(ca, "status", {{"CallStatus", status}, {"Direction", "inbound"}},
                {{t::call_status_changed, {{"status", status}, {"direction", "inbound"}, {"call_sid", ca}}}},
                ts);
  };
  outbound(day(1), "completed");  // the first millisecond of the month
  outbound(day(1) + 5000, "busy");
  outbound(day(1) + 6000, "");  // still queued: counts in total only
  inbound(day(1) + 7000, "completed");
  inbound(day(1) + 8000, "no-answer");
  for (const char* s : {"failed", "no-answer", "canceled", "completed", "in-progress"})
    outbound(day(15) + 3600000, s);
  inbound(day(29) + kDay - 2000, "busy");  // 23:59:58 on the leap day
  inbound(day(29) + kDay - 1500, "canceled");
  outbound(day(1) - 1, "completed");      // January 31st
  outbound(day(29) + kDay, "completed");  // March 1st
  log.project();

  json body = body_of(monthly_summary(*log.view, query({{"year", "2024"}, {"month", "2"}}), kT0));
  CHECK(body["success"] == true);
  CHECK(body["year"] == 2024);
  CHECK(body["month"] == 2);
  CHECK(body["monthName"] == "February");
  const json& days = body["days"];
  REQUIRE(days.size() == 29);
  for (std::size_t i = 0; i < days.size(); ++i) {
    std::string date = (i < 9 ? "2024-02-0" : "2024-02-") + std::to_string(i + 1);
    CHECK(days[i]["date"] == date);
    CHECK(days[i]["day"] == i + 1);
  }
  auto counts = [](int in, int answered, int missed, int out, int completed, int failed) {
    return json{{"inbound", {{"total", in}, {"answered", answered}, {"missed", missed}}},
                {"outbound", {{"total", out}, {"completed", completed}, {"failed", failed}}},
                {"totalCalls", in + out}};
  };
  auto without_date = [](json d) {
    d.erase("date");
    d.erase("day");
    return d;
  };
  CHECK(without_date(days[0]) == counts(2, 1, 1, 3, 1, 1));
  CHECK(without_date(days[14]) == counts(0, 0, 0, 5, 1, 3));
  CHECK(without_date(days[28]) == counts(2, 0, 2, 0, 0, 0));
  for (int d : {2, 10, 27}) CHECK(without_date(days[d - 1]) == counts(0, 0, 0, 0, 0, 0));
  CHECK(body["totals"] == counts(4, 1, 3, 8, 2, 4));

  json january = body_of(monthly_summary(*log.view, query({{"year", "2024"}, {"month", "1"}}), kT0));
  CHECK(january["monthName"] == "January");
  CHECK(january["days"].size() == 31);
  CHECK(without_date(january["days"][30]) == counts(0, 0, 0, 1, 1, 0));
  CHECK(january["totals"]["totalCalls"] == 1);
  json march = body_of(monthly_summary(*log.view, query({{"year", "2024"}, {"month", "3"}}), kT0));
  CHECK(march["totals"]["totalCalls"] == 1);
  CHECK(body_of(monthly_summary(*log.view, query({{"year", "2023"}, {"month", "2"}}), kT0))["days"].size() ==
        28);
  json december = body_of(monthly_summary(*log.view, query({{"year", "2100"}, {"month", "12"}}), kT0));
  CHECK(december["days"].size() == 31);
  CHECK(december["days"][30]["date"] == "2100-12-31");

  // The current month (of now_ms) when neither is given.
  json now = body_of(monthly_summary(*log.view, {}, kT0));
  CHECK(now["year"] == 2024);
  CHECK(now["month"] == 3);
  CHECK(now["days"].size() == 31);

  for (auto [q, words] : std::vector<std::pair<QueryParams, std::string>>{
           {query({{"year", "1999"}}), "'year' must be between 2000 and 2100"},
           {query({{"year", "2101"}}), "'year' must be between 2000 and 2100"},
           {query({{"year", "MMXXIV"}}), "'year' must be a non-negative integer"},
           {query({{"month", "0"}}), "'month' must be between 1 and 12"},
           {query({{"month", "13"}}), "'month' must be between 1 and 12"},
           {query({{"month", "-1"}}), "'month' must be a non-negative integer"}}) {
    auto bad = monthly_summary(*log.view, q, kT0);
    CHECK(bad.status == 400);
    CHECK(bad.content_type == "application/problem+json");
    json problem = body_of(bad);
    CHECK_THAT(problem["error"].get<std::string>(), Catch::Contains(words));
    CHECK(problem["code"] == "invalid_argument");
  }
}

TEST_CASE(
    "history: lastActivity in epoch ms, the Node app's eventType names, one dtmfActions entry per press") {
  Log log;
  const std::string fn = "FN1";
  log.append(stream_prefix::call + fn, {{t::execution_created, {{"execution_sid", fn}, {"to", "+441"}}}}, kT0,
             source::api);
  log.webhook(fn, "status", {{"CallStatus", "in-progress"}},
              {{t::call_status_changed, {{"status", "in-progress"}}}}, kT0 + 10);
  log.webhook(fn, "dtmf", {{"event", "dtmf"}, {"digits", "7"}}, {{t::digits_pressed, {{"digits", "7"}}}},
              kT0 + 20);
  log.webhook(fn, "dtmf", {{"event", "dtmf"}, {"digits", "1"}}, {{t::digits_pressed, {{"digits", "1"}}}},
              kT0 + 30);
  log.webhook(fn, "dtmf", {{"event", "dtmf_action"}, {"digits", "1"}, {"action", "confirm_appointment"}},
              {{t::appointment_confirmed, {{"digits", "1"}, {"action", "confirm_appointment"}}}}, kT0 + 40);
  log.webhook(fn, "flow", {{"event", "completed"}}, {{t::flow_event_received, {{"event", "completed"}}}},
              kT0 + 50);
  // An action report whose press was never reported: its own entry.
  log.webhook(fn, "dtmf", {{"event", "dtmf_action"}, {"digits", "2"}, {"action", "cancel_appointment"}},
              {{t::appointment_cancelled, {{"digits", "2"}, {"action", "cancel_appointment"}}}}, kT0 + 60);
  log.project();

  json item = body_of(call_history(*log.view, *log.store, {}))["data"][0];
  CHECK(item["lastActivity"] == kT0 + 60);
  CHECK(item["createdAt"] == "2024-03-21T10:30:00.000Z");
  CHECK(
      item["dtmfActions"] ==
      json::array(
          {{{"digits", "7"}, {"action", nullptr}, {"timestamp", "2024-03-21T10:30:00.020Z"}},
           {{"digits", "1"}, {"action", "confirm_appointment"}, {"timestamp", "2024-03-21T10:30:00.040Z"}},
           {{"digits", "2"}, {"action", "cancel_appointment"}, {"timestamp", "2024-03-21T10:30:00.060Z"}}}));
  std::vector<std::pair<std::string, std::string>> types;
  for (const json& e : item["events"]) types.emplace_back(e["eventType"], e["voxlogType"]);
  using P = std::pair<std::string, std::string>;
  CHECK(types ==
        std::vector<P>{P{"ExecutionCreated", t::execution_created}, P{"WebhookReceived", t::webhook_received},
                       P{"status", t::call_status_changed}, P{"WebhookReceived", t::webhook_received},
                       P{"dtmf", t::digits_pressed}, P{"WebhookReceived", t::webhook_received},
                       P{"dtmf", t::digits_pressed}, P{"WebhookReceived", t::webhook_received},
                       P{"dtmf", t::appointment_confirmed}, P{"WebhookReceived", t::webhook_received},
                       P{"flow", t::flow_event_received}, P{"WebhookReceived", t::webhook_received},
                       P{"dtmf", t::appointment_cancelled}});
  json exported = body_of(call_history_export(*log.view, *log.store));
  CHECK(exported["data"][0] == item);
  json timeline = body_of(call_history_of(*log.view, *log.store, fn))["data"]["timeline"];
  CHECK(timeline == item["events"]);
}

TEST_CASE("every problem body carries the Node app's error and a stable code beside the problem details") {
  json body = body_of(problem(404, "Not Found", "no call with id 'x'", "/api/calls/x"));
  CHECK(body == json{{"type", "about:blank"},
                     {"title", "Not Found"},
                     {"status", 404},
                     {"detail", "no call with id 'x'"},
                     {"instance", "/api/calls/x"},
                     {"success", false},
                     {"message", "no call with id 'x'"},
                     {"error", "no call with id 'x'"},
                     {"code", "not_found"}});
  CHECK(body_of(problem_for(invalid_argument("bad")))["code"] == "invalid_argument");
  CHECK(body_of(problem_for(conflict("busy")))["code"] == "conflict");
  CHECK(body_of(problem_for(unavailable("later")))["code"] == "unavailable");
  CHECK(body_of(problem_for(resource_exhausted("full")))["code"] == "unavailable");
  CHECK(body_of(problem_for(internal_error("oops")))["error"] == "oops");
  CHECK(std::string(error_code_for(401)) == "unauthenticated");
  CHECK(std::string(error_code_for(403)) == "permission_denied");
  CHECK(std::string(error_code_for(413)) == "payload_too_large");
  CHECK(std::string(error_code_for(415)) == "unsupported_media_type");
  CHECK(std::string(error_code_for(429)) == "rate_limited");
  CHECK(std::string(error_code_for(418)) == "invalid_argument");
  CHECK(std::string(error_code_for(502)) == "internal");
}
