#include "projections/call_row.hpp"

#include <ctime>

#include "eventstore/json_fields.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

using nlohmann::json;

// Identity facts may arrive with any event; the first value seen wins, later ones never rewrite history.
void learn(std::string& field, const std::string& value) {
  if (field.empty() && !value.empty()) field = value;
}

void learn_identity(CallRow& row, const json& data) {
  learn(row.execution_sid, string_field(data, "execution_sid"));
  learn(row.call_sid, string_field(data, "call_sid"));
  learn(row.to, string_field(data, "to"));
  learn(row.from, string_field(data, "from"));
  learn(row.request_id, string_field(data, "request_id"));
  learn(row.batch_id, string_field(data, "batch_id"));
}

void apply_webhook(CallRow& row, const json& data) {
  learn_identity(row, data);
  auto params = data.find("params");
  if (params == data.end() || !params->is_object()) return;
  learn(row.to, string_field(*params, "To"));
  learn(row.to, string_field(*params, "to"));
  learn(row.from, string_field(*params, "From"));
  learn(row.from, string_field(*params, "from"));
  learn(row.direction, string_field(*params, "Direction"));
}

void apply_status(CallRow& row, const json& data) {
  learn_identity(row, data);
  row.status = string_field(data, "status");
  if (auto n = data.find("sequence_number"); n != data.end() && n->is_number_integer())
    row.last_sequence_number = n->get<std::int64_t>();
  if (auto d = data.find("duration"); d != data.end() && d->is_number_integer())
    row.duration = d->get<std::int64_t>();
  std::string answered_by = string_field(data, "answered_by");
  if (!answered_by.empty()) row.answered_by = answered_by;
  learn(row.direction, string_field(data, "direction"));
  if (row.outcome.empty()) row.outcome = outcome_for_status(row.status);
  if (row.outcome.empty() && row.answered_by.rfind("machine", 0) == 0 && is_terminal_status(row.status))
    row.outcome = "machine";
}

}  // namespace

bool is_terminal_status(std::string_view s) {
  return s == "completed" || s == "busy" || s == "failed" || s == "no-answer" || s == "canceled";
}

int status_rank(std::string_view s) {
  if (s == "queued" || s == "initiated") return 0;
  if (s == "ringing") return 1;
  if (s == "in-progress") return 2;
  if (is_terminal_status(s)) return 3;
  return -1;
}

std::string outcome_for_status(std::string_view s) {
  if (s == "busy" || s == "failed" || s == "no-answer" || s == "canceled") return std::string(s);
  return {};
}

void apply(CallRow& row, const Event& e) {
  namespace t = event_type;
  if (row.created_ms == 0) {
    row.created_ms = e.ts;
    row.stream = e.stream;
  }
  row.updated_ms = e.ts;
  row.last_seq = e.seq;
  row.version = e.version;

  const json& d = e.data;
  if (e.type == t::webhook_received) {
    apply_webhook(row, d);
  } else if (e.type == t::execution_created) {
    learn_identity(row, d);
    if (row.status.empty()) row.status = "queued";
    if (row.direction.empty()) row.direction = "outbound-api";
  } else if (e.type == t::call_status_changed) {
    apply_status(row, d);
  } else if (e.type == t::digits_pressed) {
    row.dtmf_digits += string_field(d, "digits");
  } else if (e.type == t::appointment_confirmed) {
    row.outcome = "confirmed";
  } else if (e.type == t::appointment_cancelled) {
    row.outcome = "cancelled";
  } else if (e.type == t::voicemail_requested) {
    row.outcome = "voicemail";
  } else if (e.type == t::recording_available) {
    row.recording_url = string_field(d, "recording_url");
  } else if (e.type == t::flow_event_received) {
    if (string_field(d, "event") == "machine_detected" && row.outcome.empty()) row.outcome = "machine";
  }
}

namespace {

// The proleptic Gregorian date of `days` since 1970-01-01 (H. Hinnant's civil_from_days), for days >= 0.
void civil_from_days(std::int64_t days, std::int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;  // from 0000-03-01, so that the leap day ends the year
  const std::int64_t era = days / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;  // 0 = March
  *day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  *month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  *year = static_cast<std::int64_t>(year_of_era) + era * 400 + (*month <= 2 ? 1 : 0);
}

void put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) at[i] = static_cast<char>('0' + value % 10);
}

}  // namespace

std::string iso8601_ms(std::int64_t ms) {
  constexpr std::int64_t kYear10000 = 253402300800000;  // the first ms whose year has five digits
  if (ms < 0 || ms >= kYear10000) {                     // rare: gmtime's spelling, with its lock and locale
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[48];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
    return buf;
  }
  // Every row serialisation writes two of these: by hand, without gmtime_r's global lock and strftime.
  std::int64_t secs = ms / 1000, days = secs / 86400;
  auto second_of_day = static_cast<unsigned>(secs - days * 86400);
  std::int64_t year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, &year, &month, &day);
  std::string out = "0000-00-00T00:00:00.000Z";
  put_digits(&out[0], static_cast<unsigned>(year), 4);
  put_digits(&out[5], month, 2);
  put_digits(&out[8], day, 2);
  put_digits(&out[11], second_of_day / 3600, 2);
  put_digits(&out[14], second_of_day / 60 % 60, 2);
  put_digits(&out[17], second_of_day % 60, 2);
  put_digits(&out[20], static_cast<unsigned>(ms % 1000), 3);
  return out;
}

json to_json(const CallRow& r) {
  return json{{"id", r.id},
              {"executionSid", string_or_null(r.execution_sid)},
              {"callSid", string_or_null(r.call_sid)},
              {"to", string_or_null(r.to)},
              {"from", string_or_null(r.from)},
              {"status", string_or_null(r.status)},
              {"direction", string_or_null(r.direction)},
              {"duration", r.duration},
              {"dtmfDigits", string_or_null(r.dtmf_digits)},
              {"recordingUrl", string_or_null(r.recording_url)},
              {"createdAt", iso8601_ms(r.created_ms)},
              {"updatedAt", iso8601_ms(r.updated_ms)},
              {"outcome", string_or_null(r.outcome)},
              {"answeredBy", string_or_null(r.answered_by)},
              {"requestId", string_or_null(r.request_id)},
              {"batchId", string_or_null(r.batch_id)},
              {"stream", r.stream},
              {"createdMs", r.created_ms},
              {"updatedMs", r.updated_ms},
              {"lastSequenceNumber", r.last_sequence_number},
              {"lastSeq", r.last_seq},
              {"version", r.version}};
}

namespace {

// Appends `s` as a JSON string exactly as nlohmann's dump() writes it (UTF-8 kept, the short escapes,
// other control characters as \u00xx). `s` is valid UTF-8: every string in a row comes from the log,
// which refuses anything else.
void append_json_string(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0x0f];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_string_or_null(std::string& out, const std::string& s) {
  if (s.empty()) {
    out += "null";
  } else {
    append_json_string(out, s);
  }
}

}  // namespace

std::string to_json_text(const CallRow& r) {
  std::string out;
  out.reserve(512);
  // Keys in nlohmann's order (sorted), so the bytes equal to_json(r).dump().
  out += "{\"answeredBy\":";
  append_string_or_null(out, r.answered_by);
  out += ",\"batchId\":";
  append_string_or_null(out, r.batch_id);
  out += ",\"callSid\":";
  append_string_or_null(out, r.call_sid);
  out += ",\"createdAt\":";
  append_json_string(out, iso8601_ms(r.created_ms));
  out += ",\"createdMs\":" + std::to_string(r.created_ms);
  out += ",\"direction\":";
  append_string_or_null(out, r.direction);
  out += ",\"dtmfDigits\":";
  append_string_or_null(out, r.dtmf_digits);
  out += ",\"duration\":" + std::to_string(r.duration);
  out += ",\"executionSid\":";
  append_string_or_null(out, r.execution_sid);
  out += ",\"from\":";
  append_string_or_null(out, r.from);
  out += ",\"id\":" + std::to_string(r.id);
  out += ",\"lastSeq\":" + std::to_string(r.last_seq);
  out += ",\"lastSequenceNumber\":" + std::to_string(r.last_sequence_number);
  out += ",\"outcome\":";
  append_string_or_null(out, r.outcome);
  out += ",\"recordingUrl\":";
  append_string_or_null(out, r.recording_url);
  out += ",\"requestId\":";
  append_string_or_null(out, r.request_id);
  out += ",\"status\":";
  append_string_or_null(out, r.status);
  out += ",\"stream\":";
  append_json_string(out, r.stream);
  out += ",\"to\":";
  append_string_or_null(out, r.to);
  out += ",\"updatedAt\":";
  append_json_string(out, iso8601_ms(r.updated_ms));
  out += ",\"updatedMs\":" + std::to_string(r.updated_ms);
  out += ",\"version\":" + std::to_string(r.version);
  out += '}';
  return out;
}

CallRow call_row_from_json(const json& j) {
  CallRow r;
  r.id = j.value("id", std::uint64_t{0});
  r.stream = string_field(j, "stream");
  r.execution_sid = string_field(j, "executionSid");
  r.call_sid = string_field(j, "callSid");
  r.to = string_field(j, "to");
  r.from = string_field(j, "from");
  r.status = string_field(j, "status");
  r.direction = string_field(j, "direction");
  r.duration = j.value("duration", std::int64_t{0});
  r.dtmf_digits = string_field(j, "dtmfDigits");
  r.recording_url = string_field(j, "recordingUrl");
  r.outcome = string_field(j, "outcome");
  r.answered_by = string_field(j, "answeredBy");
  r.request_id = string_field(j, "requestId");
  r.batch_id = string_field(j, "batchId");
  r.created_ms = j.value("createdMs", std::int64_t{0});
  r.updated_ms = j.value("updatedMs", std::int64_t{0});
  r.last_sequence_number = j.value("lastSequenceNumber", std::int64_t{-1});
  r.last_seq = j.value("lastSeq", std::uint64_t{0});
  r.version = j.value("version", std::uint64_t{0});
  return r;
}

}  // namespace voxlog
