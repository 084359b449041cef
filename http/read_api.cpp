#include "http/read_api.hpp"

#include <ctime>

namespace voxlog {
using nlohmann::json;

Result<std::uint64_t> query_integer(const QueryParams& q, const std::string& name, std::uint64_t fallback,
                                    std::uint64_t min, std::uint64_t max) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return fallback;
  const std::string& s = it->second;
  if (s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    return invalid_argument("query parameter '" + name + "' must be a non-negative integer");
  std::uint64_t v = std::stoull(s);
  if (v < min || v > max)
    return invalid_argument("query parameter '" + name + "' must be between " + std::to_string(min) +
                            " and " + std::to_string(max));
  return v;
}

namespace {

std::string text(const QueryParams& q, const std::string& name) {
  auto it = q.find(name);
  return it == q.end() ? std::string() : it->second;
}

}  // namespace

Result<std::int64_t> parse_time_ms(const std::string& s) {
  if (!s.empty() && s.size() <= 16 && s.find_first_not_of("0123456789") == std::string::npos)
    return static_cast<std::int64_t>(std::stoll(s));
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) {
    tm = std::tm{};
    end = strptime(s.c_str(), "%Y-%m-%d", &tm);
  }
  if (!end)
    return invalid_argument("'" + s.substr(0, 40) + "' is not a time: use ms since epoch or ISO 8601");
  std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  if (*end == '.') {
    ++end;
    int digits = 0, frac = 0;
    while (*end >= '0' && *end <= '9') {
      if (digits < 3) frac = frac * 10 + (*end - '0'), ++digits;
      ++end;
    }
    while (digits++ < 3) frac *= 10;
    ms += frac;
  }
  if (*end == 'Z') ++end;
  if (*end != '\0') return invalid_argument("'" + s.substr(0, 40) + "' is not a UTC time (end it with Z)");
  return ms;
}

HttpResponse list_calls(const CallsView& view, const QueryParams& q) {
  CallFilter filter;
  auto limit = query_integer(q, "limit", 50, 1, 500);
  if (!limit) return problem_for(limit.status());
  auto cursor = query_integer(q, "cursor", 0, 0, UINT64_MAX);
  if (!cursor) return problem_for(cursor.status());
  filter.limit = *limit;
  filter.before_id = *cursor;
  filter.status = text(q, "status");
  filter.outcome = text(q, "outcome");
  filter.to = text(q, "to");
  if (std::string since = text(q, "since"); !since.empty()) {
    auto ms = parse_time_ms(since);
    if (!ms) return problem_for(invalid_argument("query parameter 'since': " + ms.status().message()));
    filter.since_ms = *ms;
  }
  CallPage page = view.list(filter);
  json rows = json::array();
  for (const CallRow& row : page.rows) rows.push_back(to_json(row));
  return json_response(200, {{"success", true},
                             {"data", std::move(rows)},
                             {"nextCursor", page.next_cursor ? json(page.next_cursor) : json(nullptr)}});
}

HttpResponse get_call(const CallsView& view, const std::string& id) {
  auto row = view.find(id);
  if (!row) return problem(404, "Not Found", "no call with id, execution SID or CallSid '" + id + "'");
  return json_response(200, {{"success", true}, {"data", to_json(*row)}});
}

HttpResponse call_events(const CallsView& view, const EventStore& store, const std::string& id) {
  auto row = view.find(id);
  if (!row) return problem(404, "Not Found", "no call with id, execution SID or CallSid '" + id + "'");
  json events = json::array();
  for (std::uint64_t from = 1;;) {
    auto page = store.read_stream(row->stream, from, 1000);
    if (!page) return problem_for(page.status());
    for (const Event& e : *page) events.push_back(to_json(e));
    if (page->size() < 1000) break;
    from = page->back().version + 1;
  }
  return json_response(200, {{"success", true}, {"call", to_json(*row)}, {"data", std::move(events)}});
}

HttpResponse global_events(const EventStore& store, const QueryParams& q) {
  auto after = query_integer(q, "after", 0, 0, UINT64_MAX);
  if (!after) return problem_for(after.status());
  auto limit = query_integer(q, "limit", 100, 1, 1000);
  if (!limit) return problem_for(limit.status());
  auto page = store.read_all(*after, *limit);
  if (!page) return problem_for(page.status());
  json events = json::array();
  for (const Event& e : *page) events.push_back(to_json(e));
  std::uint64_t next = page->empty() ? *after : page->back().seq;
  return json_response(200,
                       {{"events", std::move(events)}, {"lastSeq", store.last_seq()}, {"nextAfter", next}});
}

}  // namespace voxlog
