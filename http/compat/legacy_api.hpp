// The Node app's later dashboard endpoints, same paths and shapes, answered from the Call view and the
// calls' streams instead of SQLite tables and Twilio's Calls API. Free of RESTinio (legacy_routes.cpp
// binds them to routes).
//
// Contract: bad parameters give a 400 problem naming them and read nothing. Days are UTC. Shapes:
//   GET /api/calls/history?limit=&offset=  {success, data:[HistoryItem], pagination:{total, totalPages,
//       currentPage, limit, offset, hasNextPage, hasPreviousPage}}; newest first; limit 1..500 (default 50)
//       HistoryItem = {executionSid, callSid, to, from, status, lastActivity, createdAt,
//       dtmfActions:[{digits, action, timestamp}], events:[{id (= seq), eventType, status, dtmfDigits,
//       action, timestamp, eventData}]}
//   GET /api/calls/history/{executionSid}  {success, data:{executionSid, callSid, to, from, createdAt,
//       status, timeline:[same items as events]}}; 404 for an unknown call (any id the view knows works)
//   GET /api/calls/history/export/all      {success, data:[HistoryItem], total}; every call, newest first
//   GET /api/calls/stats                   {success, data:{today:{totalCalls, confirmedAppointments,
//       cancelledAppointments, voicemailRequests, failedCalls}, weekly:[{date, calls, confirmed,
//       cancelled}]}} (weekly: the last 7 days, oldest first; failed = failed, busy, no-answer or canceled)
//   GET /api/calls/daily-summary?date=YYYY-MM-DD&direction=all|inbound|outbound  {success, date,
//       stats:{inbound:{total, answered, missed, missedRatio (percent), totalDuration, avgDuration,
//       maxDuration}, outbound:{total, completed, failed, totalDuration, avgDuration, maxDuration},
//       overall:{totalCalls, totalDuration}}, calls:{inbound:[DailyCall], outbound:[DailyCall]}}
//       DailyCall = {sid, from, to, status, duration, startTime, endTime, direction}; date defaults to today.
//
// Thread-safety: pure functions over thread-safe readers; `now_ms` is passed in so results are testable.
#pragma once

#include <cstdint>
#include <string>

#include "eventstore/store.hpp"
#include "http/problem.hpp"
#include "http/read_api.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

HttpResponse call_history(const CallsView& view, const EventStore& store, const QueryParams& query);
HttpResponse call_history_of(const CallsView& view, const EventStore& store, const std::string& id);
HttpResponse call_history_export(const CallsView& view, const EventStore& store);
HttpResponse call_stats(const CallsView& view, std::int64_t now_ms);
HttpResponse daily_summary(const CallsView& view, const QueryParams& query, std::int64_t now_ms);

}  // namespace voxlog
