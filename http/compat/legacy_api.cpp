#include "http/compat/legacy_api.hpp"

#include <algorithm>
#include <ctime>

#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"
#include "http/compat/socketio_events.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

using nlohmann::json;

constexpr std::int64_t kDayMs = 24 * 3600 * 1000;
// Rows are numbered in order of first appearance; their createdAt (receive time) may step back a little
// between threads, so a newest-first scan by id stops only well past the window it wants.
constexpr std::int64_t kScanSlackMs = 3600 * 1000;

std::string utc_date(std::int64_t ms) {
  return iso8601_ms(ms).substr(0, 10);
}

// Every row with createdAt in [from_ms, to_ms), newest first.
template <class Fn>
void for_each_created_between(const CallsView& view, std::int64_t from_ms, std::int64_t to_ms, Fn fn) {
  for (std::uint64_t id = view.count(); id >= 1; --id) {
    auto row = view.find(std::to_string(id));
    if (!row) continue;
    if (row->created_ms < from_ms - kScanSlackMs) break;
    if (row->created_ms >= from_ms && row->created_ms < to_ms) fn(*row);
  }
}

Result<std::vector<Event>> whole_stream(const EventStore& store, const std::string& stream) {
  std::vector<Event> events;
  for (std::uint64_t from = 1;;) {
    auto page = store.read_stream(stream, from, 1000);
    if (!page) return page.status();
    for (Event& e : *page) events.push_back(std::move(e));
    if (page->size() < 1000) return events;
    from = events.back().version + 1;
  }
}

std::string action_of(const Event& e) {
  std::string action = string_field(e.data, "action");
  return action.empty() ? sio::action_for_event_type(e.type) : action;
}

json event_item(const Event& e) {
  return {{"id", e.seq},
          {"eventType", e.type},
          {"status", string_or_null(string_field(e.data, "status"))},
          {"dtmfDigits", string_or_null(string_field(e.data, "digits"))},
          {"action", string_or_null(action_of(e))},
          {"timestamp", iso8601_ms(e.ts)},
          {"eventData", e.data}};
}

Result<json> history_item(const CallRow& row, const EventStore& store) {
  auto events = whole_stream(store, row.stream);
  if (!events) return events.status();
  json items = json::array(), actions = json::array();
  for (const Event& e : *events) {
    items.push_back(event_item(e));
    if (!sio::action_for_event_type(e.type).empty())
      actions.push_back({{"digits", string_field(e.data, "digits")},
                         {"action", action_of(e)},
                         {"timestamp", iso8601_ms(e.ts)}});
  }
  return json{{"executionSid", string_or_null(row.execution_sid)},
              {"callSid", string_or_null(row.call_sid)},
              {"to", string_or_null(row.to)},
              {"from", string_or_null(row.from)},
              {"status", string_or_null(row.status)},
              {"lastActivity", iso8601_ms(row.updated_ms)},
              {"createdAt", iso8601_ms(row.created_ms)},
              {"dtmfActions", std::move(actions)},
              {"events", std::move(items)}};
}

bool is_failure(const std::string& status) {
  return status == "failed" || status == "busy" || status == "no-answer" || status == "canceled";
}

struct DurationStats {
  std::int64_t total = 0, sum = 0, max = 0;
  void add(std::int64_t d) { ++total, sum += d, max = std::max(max, d); }
  json to_json_with(json extra) const {
    extra["total"] = total;
    extra["totalDuration"] = sum;
    extra["avgDuration"] = total ? (sum + total / 2) / total : 0;
    extra["maxDuration"] = max;
    return extra;
  }
};

json daily_call(const CallRow& row) {
  return {{"sid", string_or_null(row.call_sid.empty() ? row.execution_sid : row.call_sid)},
          {"from", string_or_null(row.from)},
          {"to", string_or_null(row.to)},
          {"status", string_or_null(row.status)},
          {"duration", row.duration},
          {"startTime", iso8601_ms(row.created_ms)},
          {"endTime", is_terminal_status(row.status) ? json(iso8601_ms(row.updated_ms)) : json(nullptr)},
          {"direction", string_or_null(row.direction)}};
}

}  // namespace

HttpResponse call_history(const CallsView& view, const EventStore& store, const QueryParams& q) {
  auto limit = query_integer(q, "limit", 50, 1, 500);
  if (!limit) return problem_for(limit.status());
  auto offset = query_integer(q, "offset", 0, 0, UINT64_MAX / 2);
  if (!offset) return problem_for(offset.status());
  std::uint64_t total = view.count();
  json data = json::array();
  for (std::uint64_t i = *offset; i < total && i < *offset + *limit; ++i) {
    auto row = view.find(std::to_string(total - i));  // ids are dense from 1: newest first
    if (!row) continue;
    auto item = history_item(*row, store);
    if (!item) return problem_for(item.status());
    data.push_back(std::move(*item));
  }
  std::uint64_t pages = (total + *limit - 1) / *limit;
  return json_response(200, {{"success", true},
                             {"data", std::move(data)},
                             {"pagination",
                              {{"total", total},
                               {"totalPages", pages},
                               {"currentPage", *offset / *limit + 1},
                               {"limit", *limit},
                               {"offset", *offset},
                               {"hasNextPage", *offset + *limit < total},
                               {"hasPreviousPage", *offset > 0}}}});
}

HttpResponse call_history_of(const CallsView& view, const EventStore& store, const std::string& id) {
  auto row = view.find(id);
  if (!row)
    return problem(404, "Not Found", "no call with execution SID, CallSid or id '" + id.substr(0, 100) + "'");
  auto item = history_item(*row, store);
  if (!item) return problem_for(item.status());
  return json_response(200, {{"success", true},
                             {"data",
                              {{"executionSid", (*item)["executionSid"]},
                               {"callSid", (*item)["callSid"]},
                               {"to", (*item)["to"]},
                               {"from", (*item)["from"]},
                               {"createdAt", (*item)["createdAt"]},
                               {"status", (*item)["status"]},
                               {"timeline", std::move((*item)["events"])}}}});
}

HttpResponse call_history_export(const CallsView& view, const EventStore& store) {
  json data = json::array();
  for (std::uint64_t id = view.count(); id >= 1; --id) {
    auto row = view.find(std::to_string(id));
    if (!row) continue;
    auto item = history_item(*row, store);
    if (!item) return problem_for(item.status());
    data.push_back(std::move(*item));
  }
  std::size_t total = data.size();
  return json_response(200, {{"success", true}, {"data", std::move(data)}, {"total", total}});
}

HttpResponse call_stats(const CallsView& view, std::int64_t now_ms) {
  std::int64_t today = now_ms - now_ms % kDayMs;
  std::int64_t week_start = today - 6 * kDayMs;
  json today_stats = {{"totalCalls", 0},
                      {"confirmedAppointments", 0},
                      {"cancelledAppointments", 0},
                      {"voicemailRequests", 0},
                      {"failedCalls", 0}};
  json weekly = json::array();
  for (int d = 0; d < 7; ++d)
    weekly.push_back(
        {{"date", utc_date(week_start + d * kDayMs)}, {"calls", 0}, {"confirmed", 0}, {"cancelled", 0}});
  auto bump = [](json& counter) { counter = counter.get<std::int64_t>() + 1; };
  for_each_created_between(view, week_start, today + kDayMs, [&](const CallRow& row) {
    json& day = weekly[static_cast<std::size_t>((row.created_ms - week_start) / kDayMs)];
    bump(day["calls"]);
    if (row.outcome == "confirmed") bump(day["confirmed"]);
    if (row.outcome == "cancelled") bump(day["cancelled"]);
    if (row.created_ms < today) return;
    bump(today_stats["totalCalls"]);
    if (row.outcome == "confirmed") bump(today_stats["confirmedAppointments"]);
    if (row.outcome == "cancelled") bump(today_stats["cancelledAppointments"]);
    if (row.outcome == "voicemail") bump(today_stats["voicemailRequests"]);
    if (is_failure(row.status)) bump(today_stats["failedCalls"]);
  });
  return json_response(200, {{"success", true}, {"data", {{"today", today_stats}, {"weekly", weekly}}}});
}

HttpResponse daily_summary(const CallsView& view, const QueryParams& q, std::int64_t now_ms) {
  std::string date = utc_date(now_ms);
  if (auto it = q.find("date"); it != q.end() && !it->second.empty()) date = it->second;
  auto start = parse_time_ms(date);
  if (date.size() != 10 || !start)
    return problem_for(invalid_argument("query parameter 'date' must be a day as YYYY-MM-DD"));
  std::string direction = "all";
  if (auto it = q.find("direction"); it != q.end() && !it->second.empty()) direction = it->second;
  if (direction != "all" && direction != "inbound" && direction != "outbound")
    return problem_for(invalid_argument("query parameter 'direction' must be all, inbound or outbound"));

  DurationStats inbound, outbound;
  std::int64_t answered = 0, completed = 0, failed = 0;
  json inbound_calls = json::array(), outbound_calls = json::array();
  for_each_created_between(view, *start, *start + kDayMs, [&](const CallRow& row) {
    bool is_inbound = row.direction == "inbound";
    if (direction != "all" && is_inbound != (direction == "inbound")) return;
    if (is_inbound) {
      inbound.add(row.duration);
      if (row.status == "completed" || row.status == "in-progress") ++answered;
      inbound_calls.push_back(daily_call(row));
    } else {
      outbound.add(row.duration);
      if (row.status == "completed") ++completed;
      if (is_failure(row.status)) ++failed;
      outbound_calls.push_back(daily_call(row));
    }
  });
  std::int64_t missed = inbound.total - answered;
  double missed_ratio = inbound.total ? static_cast<double>(missed * 10000 / inbound.total) / 100.0 : 0.0;
  json stats = {
      {"inbound",
       inbound.to_json_with({{"answered", answered}, {"missed", missed}, {"missedRatio", missed_ratio}})},
      {"outbound", outbound.to_json_with({{"completed", completed}, {"failed", failed}})},
      {"overall",
       {{"totalCalls", inbound.total + outbound.total}, {"totalDuration", inbound.sum + outbound.sum}}}};
  return json_response(
      200, {{"success", true},
            {"date", date},
            {"stats", std::move(stats)},
            {"calls", {{"inbound", std::move(inbound_calls)}, {"outbound", std::move(outbound_calls)}}}});
}

}  // namespace voxlog
