#include "http/compat/legacy_api.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>

#include "actors/webhook.hpp"
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
  std::string_view node_type = node_event_type(e.type);
  return {{"id", e.seq},
          {"eventType", node_type.empty() ? e.type : std::string(node_type)},
          {"voxlogType", e.type},
          {"status", string_or_null(string_field(e.data, "status"))},
          {"dtmfDigits", string_or_null(string_field(e.data, "digits"))},
          {"action", string_or_null(action_of(e))},
          {"timestamp", iso8601_ms(e.ts)},
          {"eventData", e.data}};
}

// One entry per key press, in order: a DigitsPressed opens an entry (action null) that the action event
// reporting the same key takes over; an action event with no press before it has an entry of its own.
json dtmf_actions(const std::vector<Event>& events) {
  json actions = json::array();
  std::optional<std::size_t> open_press;  // the entry of a press whose action may still come
  for (const Event& e : events) {
    bool press = e.type == event_type::digits_pressed;
    bool action = !sio::action_for_event_type(e.type).empty();
    if (!press && !action) continue;
    const std::string& digits = string_field(e.data, "digits");
    json entry = {{"digits", digits},
                  {"action", press ? json(nullptr) : json(action_of(e))},
                  {"timestamp", iso8601_ms(e.ts)}};
    if (action && open_press && actions[*open_press]["digits"] == digits) {
      actions[*open_press] = std::move(entry);
    } else {
      actions.push_back(std::move(entry));
    }
    open_press = press ? std::optional<std::size_t>(actions.size() - 1) : std::nullopt;
  }
  return actions;
}

Result<json> history_item(const CallRow& row, const EventStore& store) {
  auto events = whole_stream(store, row.stream);
  if (!events) return events.status();
  json items = json::array();
  for (const Event& e : *events) items.push_back(event_item(e));
  return json{{"executionSid", string_or_null(row.execution_sid)},
              {"callSid", string_or_null(row.call_sid)},
              {"to", string_or_null(row.to)},
              {"from", string_or_null(row.from)},
              {"status", string_or_null(row.status)},
              {"lastActivity", row.updated_ms},        // epoch ms, as the Node app sent it
              {"region", string_or_null(row.region)},  // the Node app's name for the Twilio account
              {"account", string_or_null(row.account)},
              {"createdAt", iso8601_ms(row.created_ms)},
              {"dtmfActions", dtmf_actions(*events)},
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

std::function<Result<std::string>()> call_history_export_pieces(const CallsView& view,
                                                                const EventStore& store,
                                                                std::size_t rows_per_piece) {
  struct Progress {
    std::uint64_t next_id;  // the calls' ids count down from the newest
    std::size_t total = 0;
    bool started = false;
    bool ended = false;
  };
  auto progress = std::make_shared<Progress>(Progress{view.count()});
  return [&view, &store, progress, rows_per_piece]() -> Result<std::string> {
    Progress& p = *progress;
    if (p.ended) return std::string();
    std::string out = p.started ? "" : R"({"success":true,"data":[)";
    p.started = true;
    for (std::size_t rows = 0; rows < rows_per_piece && p.next_id >= 1; --p.next_id) {
      auto row = view.find(std::to_string(p.next_id));
      if (!row) continue;
      auto item = history_item(*row, store);
      if (!item) return item.status();
      if (p.total++ > 0) out += ',';
      out += item->dump();
      ++rows;
    }
    if (p.next_id == 0) {
      out += R"(],"total":)" + std::to_string(p.total) + "}";
      p.ended = true;
    }
    return out;
  };
}

HttpResponse call_history_export(const CallsView& view, const EventStore& store) {
  auto next = call_history_export_pieces(view, store);
  std::string body;
  for (;;) {
    auto piece = next();
    if (!piece) return problem_for(piece.status());
    if (piece->empty()) return {200, "application/json", std::move(body)};
    body += *piece;
  }
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

std::string_view node_event_type(std::string_view type) {
  namespace t = event_type;
  if (type == t::call_status_changed) return "status";
  if (type == t::digits_pressed || !sio::action_for_event_type(type).empty()) return "dtmf";
  if (type == t::flow_event_received) return "flow";
  return {};
}

HttpResponse monthly_summary(const CallsView& view, const QueryParams& q, std::int64_t now_ms) {
  static const char* const names[] = {"January", "February", "March",     "April",   "May",      "June",
                                      "July",    "August",   "September", "October", "November", "December"};
  std::string today = utc_date(now_ms);
  auto year = query_integer(q, "year", std::stoull(today.substr(0, 4)), 2000, 2100);
  if (!year) return problem_for(year.status());
  auto month = query_integer(q, "month", std::stoull(today.substr(5, 2)), 1, 12);
  if (!month) return problem_for(month.status());
  auto first_day = [](std::uint64_t y, std::uint64_t m) {
    char text[16];
    std::snprintf(text, sizeof text, "%04u-%02u-01", static_cast<unsigned>(y), static_cast<unsigned>(m));
    return parse_time_ms(text);
  };
  auto start = first_day(*year, *month);
  auto end = *month == 12 ? first_day(*year + 1, 1) : first_day(*year, *month + 1);
  if (!start || !end) return problem_for(internal_error("cannot compute the days of the month"));
  auto day_count = static_cast<std::size_t>((*end - *start) / kDayMs);

  struct Counts {
    std::int64_t inbound = 0, answered = 0, missed = 0, outbound = 0, completed = 0, failed = 0;
    json to_json() const {
      return {{"inbound", {{"total", inbound}, {"answered", answered}, {"missed", missed}}},
              {"outbound", {{"total", outbound}, {"completed", completed}, {"failed", failed}}},
              {"totalCalls", inbound + outbound}};
    }
  };
  std::vector<Counts> days(day_count);
  Counts totals;
  for_each_created_between(view, *start, *end, [&](const CallRow& row) {
    for (Counts* c : {&days[static_cast<std::size_t>((row.created_ms - *start) / kDayMs)], &totals}) {
      if (row.direction == "inbound") {
        ++c->inbound;
        if (row.status == "completed") ++c->answered;
        if (is_failure(row.status)) ++c->missed;
      } else {
        ++c->outbound;
        if (row.status == "completed") ++c->completed;
        if (is_failure(row.status)) ++c->failed;
      }
    }
  });
  json out_days = json::array();
  for (std::size_t d = 0; d < day_count; ++d) {
    json day = days[d].to_json();
    day["date"] = utc_date(*start + static_cast<std::int64_t>(d) * kDayMs);
    day["day"] = d + 1;
    out_days.push_back(std::move(day));
  }
  return json_response(200, {{"success", true},
                             {"year", *year},
                             {"month", *month},
                             {"monthName", names[*month - 1]},
                             {"days", std::move(out_days)},
                             {"totals", totals.to_json()}});
}

Result<LegacyEventIndex::Snapshot> LegacyEventIndex::refresh(const EventStore& store) {
  // One read transaction per chunk, so that a first scan of a long log never holds one for long (an
  // append that grows the map waits for every open read).
  constexpr std::size_t kChunk = 8192;
  std::lock_guard lock(mu_);
  const std::uint64_t target = store.last_seq();
  while (state_.through < target) {
    std::uint64_t before = state_.through;
    std::size_t seen = 0;
    Status scanned = store.scan(before, [&](const Event& e) {
      if (e.seq > target) return false;
      if (!node_event_type(e.type).empty()) {
        if (state_.total % kStride == 0) marks_.push_back(e.seq);
        ++state_.total;
      }
      state_.through = e.seq;
      return ++seen < kChunk;
    });
    if (!scanned) return scanned;
    if (state_.through == before) break;  // the log ends before `target` (cannot happen: seqs are dense)
  }
  return state_;
}

std::pair<std::uint64_t, std::uint64_t> LegacyEventIndex::mark(std::uint64_t ordinal) const {
  std::lock_guard lock(mu_);
  std::size_t k = static_cast<std::size_t>(ordinal / kStride);
  if (marks_.empty()) return {0, 0};
  k = std::min(k, marks_.size() - 1);
  return {k * kStride, marks_[k]};
}

HttpResponse calls_event_feed(LegacyEventIndex& index, const CallsView& view, const EventStore& store,
                              const QueryParams& q) {
  auto page = query_integer(q, "page", 1, 1, UINT32_MAX);
  if (!page) return problem_for(page.status());
  auto limit = query_integer(q, "limit", 50, 1, 100);
  if (!limit) return problem_for(limit.status());
  auto snapshot = index.refresh(store);
  if (!snapshot) return problem_for(snapshot.status());
  const std::uint64_t total = snapshot->total, skip = (*page - 1) * *limit;

  json events = json::array();
  if (skip < total) {
    // The page's feed events, by ordinal oldest first: [lo, hi].
    const std::uint64_t hi = total - 1 - skip, lo = hi + 1 > *limit ? hi + 1 - *limit : 0;
    auto [ordinal, mark_seq] = index.mark(lo);
    // A webhook is committed just before the events it produced: start a little before the mark to see it.
    constexpr std::uint64_t kLookBehind = 16;
    std::uint64_t after = mark_seq > kLookBehind ? mark_seq - kLookBehind - 1 : 0;
    // The page's events and the webhooks among and just before them, in seq order.
    std::vector<Event> window;
    std::vector<std::size_t> picked;  // indexes into `window` of the page's events
    Status scanned = store.scan(after, [&](const Event& e) {
      if (e.seq > snapshot->through) return false;
      if (e.seq < mark_seq || node_event_type(e.type).empty()) {
        if (e.type == event_type::webhook_received) window.push_back(e);
        return true;
      }
      if (ordinal++ >= lo) {
        window.push_back(e);
        picked.push_back(window.size() - 1);
      }
      return ordinal <= hi;
    });
    if (!scanned) return problem_for(scanned);

    std::map<std::string, std::optional<CallRow>> rows;
    auto row_of = [&](const std::string& stream) -> const std::optional<CallRow>& {
      auto it = rows.find(stream);
      if (it == rows.end()) it = rows.emplace(stream, view.find_by_stream(stream)).first;
      return it->second;
    };
    // The webhook that produced window[i]: the latest WebhookReceived of its stream before it, when the
    // event came from a webhook; read from the stream when it lies before the window.
    auto webhook_params = [&](std::size_t i) -> std::optional<json> {
      const Event& e = window[i];
      if (e.source != source::twilio_webhook) return std::nullopt;
      for (std::size_t j = i; j-- > 0;)
        if (window[j].stream == e.stream && window[j].type == event_type::webhook_received)
          return window[j].data.value("params", json::object());
      if (e.version <= 1) return std::nullopt;
      std::uint64_t from = e.version > kLookBehind ? e.version - kLookBehind : 1;
      auto before = store.read_stream(e.stream, from, static_cast<std::size_t>(e.version - from));
      if (!before) return std::nullopt;
      for (auto it = before->rbegin(); it != before->rend(); ++it)
        if (it->type == event_type::webhook_received) return it->data.value("params", json::object());
      return std::nullopt;
    };
    for (auto it = picked.rbegin(); it != picked.rend(); ++it) {  // newest first
      const Event& e = window[*it];
      const std::optional<CallRow>& row = row_of(e.stream);
      std::optional<json> params = webhook_params(*it);
      const json& raw = params ? *params : e.data;
      auto pick = [&](const std::string CallRow::*field, std::initializer_list<std::string_view> keys) {
        if (row && !((*row).*field).empty()) return string_or_null((*row).*field);
        std::string value = webhook_param(e.data, keys);
        return string_or_null(value.empty() ? webhook_param(raw, keys) : value);
      };
      std::string_view type = node_event_type(e.type);
      bool dtmf = type == "dtmf";
      events.push_back(
          {{"id", e.seq},
           {"execution_sid", pick(&CallRow::execution_sid, {"execution_sid", "ExecutionSid"})},
           {"CallSid", pick(&CallRow::call_sid, {"call_sid", "CallSid"})},
           {"To", pick(&CallRow::to, {"to", "To"})},
           {"From", pick(&CallRow::from, {"from", "From"})},
           {"status", type == "status" ? string_or_null(string_field(e.data, "status")) : json()},
           {"type", std::string(type)},
           {"digits", dtmf ? string_or_null(string_field(e.data, "digits")) : json()},
           {"action", dtmf ? string_or_null(action_of(e)) : json()},
           {"time", e.ts},
           {"eventData", raw}});
    }
  }
  return json_response(200, {{"success", true},
                             {"data",
                              {{"events", std::move(events)},
                               {"pagination",
                                {{"page", *page},
                                 {"limit", *limit},
                                 {"total", total},
                                 {"totalPages", (total + *limit - 1) / *limit}}}}}});
}

}  // namespace voxlog
