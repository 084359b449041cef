// The Node app's later dashboard endpoints, same paths and shapes, answered from the Call view and the
// calls' streams instead of SQLite tables and Twilio's Calls API. Free of RESTinio (legacy_routes.cpp
// binds them to routes).
//
// Contract: bad parameters give a 400 problem naming them and read nothing. Days are UTC. Shapes:
//   GET /api/calls/history?limit=&offset=  {success, data:[HistoryItem], pagination:{total, totalPages,
//       currentPage, limit, offset, hasNextPage, hasPreviousPage}}; newest first; limit 1..500 (default 50)
//       HistoryItem = {executionSid, callSid, to, from, status, lastActivity (epoch ms, as the Node app
//       sent it), createdAt (ISO), dtmfActions:[{digits, action, timestamp (ISO)}], events:[{id (= seq),
//       eventType, voxlogType, status, dtmfDigits, action, timestamp (ISO), eventData}]}
//       eventType is the Node app's name for the event's kind (node_event_type below: status, dtmf, flow),
//       or voxlog's type for the events the Node app had no row for (WebhookReceived, ExecutionCreated,
//       RecordingAvailable, ...); voxlogType is always voxlog's type. dtmfActions has one entry per key
//       press: with the action the flow took for it, or with action null for a plain press (a key that
//       led to no action, or whose action report never came).
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
//   GET /api/calls/monthly-summary?year=&month=  {success, year, month, monthName ("January"...), days:[{date
//       (YYYY-MM-DD), day (1..31), inbound:{total, answered, missed}, outbound:{total, completed, failed},
//       totalCalls}] (every day of the month, oldest first), totals:{inbound, outbound, totalCalls}};
//       year 2000..2100 and month 1..12, each defaulting to the current one; a call counts on the UTC day
//       of its createdAt; inbound = direction "inbound", outbound = every other call; answered and
//       completed = status completed; missed and failed = busy, no-answer, failed or canceled (a call
//       still in flight counts in total only).
//   GET /api/calls/events?page=&limit=     {success, data:{events:[FeedEvent], pagination:{page, limit,
//       total, totalPages}}}; the Node app's events table: the log's status, dtmf and flow events
//       (node_event_type), newest first; page from 1 (default 1), limit 1..100 (default 50); a page past the
//       end is empty. FeedEvent = {id (= seq), execution_sid, CallSid, To, From (the call's, from the Call
//       view), status (a status event's new status, else null), type (status|dtmf|flow), digits (dtmf, else
//       null), action (confirm_appointment, cancel_appointment, connect_to_representative, opt_out; null for
//       a plain press and the other kinds), time (epoch ms), eventData (the raw parameters of the webhook
//       that produced the event; the event's data when no webhook did)}.
//
// Thread-safety: pure functions over thread-safe readers; `now_ms` is passed in so results are testable.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventstore/store.hpp"
#include "http/problem.hpp"
#include "http/read_api.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

HttpResponse call_history(const CallsView& view, const EventStore& store, const QueryParams& query);
HttpResponse call_history_of(const CallsView& view, const EventStore& store, const std::string& id);
HttpResponse call_history_export(const CallsView& view, const EventStore& store);
// The same export a piece at a time, for a streamed answer: each call returns the next piece of the JSON
// text (at most `rows_per_piece` calls), then "" once it is whole. Memory stays that of one piece however
// many calls there are. The calls are those the view held at the first piece; each is read as it is then.
std::function<Result<std::string>()> call_history_export_pieces(const CallsView& view,
                                                                const EventStore& store,
                                                                std::size_t rows_per_piece = 256);
HttpResponse call_stats(const CallsView& view, std::int64_t now_ms);
HttpResponse daily_summary(const CallsView& view, const QueryParams& query, std::int64_t now_ms);
HttpResponse monthly_summary(const CallsView& view, const QueryParams& query, std::int64_t now_ms);

// The Node app's name for the kind of a log event: "status" (CallStatusChanged), "dtmf" (DigitsPressed,
// AppointmentConfirmed, AppointmentCancelled, VoicemailRequested, OptOutRequested), "flow"
// (FlowEventReceived); "" for every other type (no row in the Node app's events table).
std::string_view node_event_type(std::string_view type);

// The events feed's index over the log: how many events have a node_event_type, and the seq of every
// kStride-th of them, so that a page reads at most kStride + limit of them however long the log is. Built
// by one scan of the log on first use, then brought up to date with the events committed since (a scan
// from the last seq it holds); its memory is 8 bytes per kStride feed events.
//
// Thread-safety: every member may be called from any thread (a mutex guards the state).
class LegacyEventIndex {
 public:
  static constexpr std::uint64_t kStride = 256;

  struct Snapshot {
    std::uint64_t through = 0;  // the last seq indexed
    std::uint64_t total = 0;    // feed events with seq <= through
  };
  // Indexes the events committed since the last call; what it returns is consistent with mark().
  Result<Snapshot> refresh(const EventStore& store);
  // For the feed event number `ordinal` (0-based, oldest first; < the total of a snapshot): the ordinal
  // and seq of the nearest marked feed event at or before it.
  std::pair<std::uint64_t, std::uint64_t> mark(std::uint64_t ordinal) const;

 private:
  mutable std::mutex mu_;
  Snapshot state_;
  std::vector<std::uint64_t> marks_;  // marks_[k]: the seq of feed event number k * kStride
};

HttpResponse calls_event_feed(LegacyEventIndex& index, const CallsView& view, const EventStore& store,
                              const QueryParams& query);

}  // namespace voxlog
