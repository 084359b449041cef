// CallRow: one row of the Call view, and the fold that builds it from a call's events.
//
// Contract: `apply(row, event)` is THE definition of what a call's events mean for its row. The calls
// projection, `voxlog replay` and the call actors all fold with it, so a rebuilt view equals the live one
// byte for byte and an actor's decisions agree with what the dashboard shows. It is pure: the result
// depends only on the row and the event (times come from the event's `ts`, never from the clock).
// The JSON shape keeps the Node app's column names (id, executionSid, callSid, to, from, status,
// direction, duration, dtmfDigits, recordingUrl, createdAt, updatedAt) and adds outcome, answeredBy,
// lastSeq and the rest.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "eventstore/event.hpp"

namespace voxlog {

struct CallRow {
  std::uint64_t id = 0;  // dense, in order of first appearance in the log (like the Node app's int id)
  std::string stream;
  std::string execution_sid;
  std::string call_sid;
  std::string to;
  std::string from;
  std::string
      status;  // Twilio CallStatus vocabulary: queued, initiated, ringing, in-progress, completed, ...
  std::string direction;
  std::int64_t duration = 0;  // seconds
  std::string dtmf_digits;    // every key pressed, in order
  // The key a "dtmf" report counted and whose "dtmf_action" report has not come yet: that report then
  // counts no second press; one that comes without a "dtmf" report first counts its key itself.
  std::string digits_awaiting_action;
  std::string recording_url;
  std::string answered_by;
  std::string
      outcome;  // confirmed, cancelled, voicemail, busy, no-answer, failed, canceled, machine, or empty
  std::string request_id;
  std::string batch_id;
  // The Twilio account the call went through (its name in the configuration) and that account's region,
  // learned from ExecutionCreated, or from the account whose token verified a webhook (inbound calls).
  std::string account;
  std::string region;
  std::int64_t last_sequence_number = -1;  // Twilio SequenceNumber of the last applied status callback
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t version = 0;  // the stream version folded so far
};

bool is_terminal_status(std::string_view status);
// queued/initiated 0, ringing 1, in-progress 2, terminal 3; -1 for an unknown word.
int status_rank(std::string_view status);

// The outcome implied by a terminal status when no key decided it ("" for completed).
std::string outcome_for_status(std::string_view status);

void apply(CallRow& row, const Event& event);

// One field of a Call row as JSON: the one list of the row's fields, in key order, that the writers
// (to_json, to_json_text), the reader (call_row_from_json) and the tests share. A `time` field is the
// ISO-8601 spelling of an integer field (written, not read back: the integer is).
struct CallRowField {
  enum class Kind { text_or_null, text, integer, count, time };
  const char* key;
  Kind kind;
  std::string CallRow::*text = nullptr;      // text_or_null, text
  std::int64_t CallRow::*integer = nullptr;  // integer, time
  std::uint64_t CallRow::*count = nullptr;   // count
  std::int64_t fallback = 0;                 // an integer absent from the JSON
};
const std::vector<CallRowField>& call_row_fields();

nlohmann::json to_json(const CallRow& row);
// The same bytes as to_json(row).dump(), written directly (the view stores a row per event it applies).
std::string to_json_text(const CallRow& row);
CallRow call_row_from_json(const nlohmann::json& j);

}  // namespace voxlog
