// The read side of the HTTP API, free of RESTinio: each function answers one GET route from the log
// and the projections.
//
// Contract: inputs are the decoded query parameters; bad parameters give a 400 problem naming them and
// read nothing. Shapes:
//   GET /api/calls            {success, data:[CallRow], nextCursor|null}   filters status, outcome, to,
//   since,
//                             cursor, limit (1..500, default 50); newest first
//   GET /api/calls/{id}       {success, data: CallRow}       id = numeric id, execution SID or CallSid
//   GET /api/calls/{id}/events {success, data:[envelope]}   the call's whole stream, raw webhook params
//   included GET /api/events           {events:[envelope], lastSeq, nextAfter}   after (default 0), limit
//   (1..1000)
//
// Thread-safety: pure functions over thread-safe readers; call from any thread.
#pragma once

#include <map>
#include <string>

#include "eventstore/store.hpp"
#include "http/problem.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

using QueryParams = std::map<std::string, std::string>;

HttpResponse list_calls(const CallsView& view, const QueryParams& query);
HttpResponse get_call(const CallsView& view, const std::string& id);
HttpResponse call_events(const CallsView& view, const EventStore& store, const std::string& id);
HttpResponse global_events(const EventStore& store, const QueryParams& query);

// The query parameter `name` as an integer in [min, max]; `fallback` when absent or empty; else
// invalid_argument naming the parameter.
Result<std::uint64_t> query_integer(const QueryParams& query, const std::string& name, std::uint64_t fallback,
                                    std::uint64_t min, std::uint64_t max);

// Parses "1700000000000" (ms), "2024-03-21" or "2024-03-21T10:30:00Z" into ms since the epoch.
Result<std::int64_t> parse_time_ms(const std::string& text);

}  // namespace voxlog
