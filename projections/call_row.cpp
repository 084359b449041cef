#include "projections/call_row.hpp"

#include <ctime>

#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"
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
  learn(row.batch_id, string_field(data, "campaign_id"));  // a campaign's calls: batchId names it
  learn(row.account, string_field(data, "account"));
  learn(row.region, string_field(data, "region"));
}

void apply_webhook(CallRow& row, const json& data) {
  learn_identity(row, data);
  auto params = data.find("params");
  if (params == data.end() || !params->is_object()) return;
  if (string_field(*params, "event") == "dtmf_action") row.digits_awaiting_action.clear();
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
    // The account the dialer placed the call through is the call's, whichever token signed an earlier
    // webhook.
    if (std::string account = string_field(d, "account"); !account.empty()) {
      row.account = account;
      row.region = string_field(d, "region");
    }
    if (row.status.empty()) row.status = "queued";
    if (row.direction.empty()) row.direction = "outbound-api";
  } else if (e.type == t::call_status_changed) {
    apply_status(row, d);
  } else if (e.type == t::digits_pressed) {
    row.dtmf_digits += string_field(d, "digits");
    if (!d.value("from_action_report", false)) row.digits_awaiting_action = string_field(d, "digits");
  } else if (e.type == t::appointment_confirmed) {
    row.outcome = "confirmed";
  } else if (e.type == t::appointment_cancelled) {
    row.outcome = "cancelled";
  } else if (e.type == t::voicemail_requested) {
    row.outcome = "voicemail";
  } else if (e.type == t::opt_out_requested) {
    row.outcome = "opted-out";
  } else if (e.type == t::recording_available) {
    row.recording_url = string_field(d, "recording_url");
  } else if (e.type == t::flow_event_received) {
    if (string_field(d, "event") == "machine_detected" && row.outcome.empty()) row.outcome = "machine";
  }
}

const std::vector<CallRowField>& call_row_fields() {
  using K = CallRowField::Kind;
  using R = CallRow;
  // Sorted by key: nlohmann's objects are, so to_json_text() writes the bytes of to_json().dump().
  static const std::vector<CallRowField> fields{
      {"account", K::text_or_null, &R::account},
      {"answeredBy", K::text_or_null, &R::answered_by},
      {"batchId", K::text_or_null, &R::batch_id},
      {"callSid", K::text_or_null, &R::call_sid},
      {"createdAt", K::time, nullptr, &R::created_ms},
      {"createdMs", K::integer, nullptr, &R::created_ms},
      {"digitsAwaitingAction", K::text_or_null, &R::digits_awaiting_action},
      {"direction", K::text_or_null, &R::direction},
      {"dtmfDigits", K::text_or_null, &R::dtmf_digits},
      {"duration", K::integer, nullptr, &R::duration},
      {"executionSid", K::text_or_null, &R::execution_sid},
      {"from", K::text_or_null, &R::from},
      {"id", K::count, nullptr, nullptr, &R::id},
      {"lastSeq", K::count, nullptr, nullptr, &R::last_seq},
      {"lastSequenceNumber", K::integer, nullptr, &R::last_sequence_number, nullptr, -1},
      {"outcome", K::text_or_null, &R::outcome},
      {"recordingUrl", K::text_or_null, &R::recording_url},
      {"region", K::text_or_null, &R::region},
      {"requestId", K::text_or_null, &R::request_id},
      {"status", K::text_or_null, &R::status},
      {"stream", K::text, &R::stream},
      {"to", K::text_or_null, &R::to},
      {"updatedAt", K::time, nullptr, &R::updated_ms},
      {"updatedMs", K::integer, nullptr, &R::updated_ms},
      {"version", K::count, nullptr, nullptr, &R::version},
  };
  return fields;
}

json to_json(const CallRow& r) {
  using K = CallRowField::Kind;
  json out = json::object();
  for (const auto& f : call_row_fields()) {
    switch (f.kind) {
      case K::text_or_null: out[f.key] = string_or_null(r.*f.text); break;
      case K::text: out[f.key] = r.*f.text; break;
      case K::integer: out[f.key] = r.*f.integer; break;
      case K::count: out[f.key] = r.*f.count; break;
      case K::time: out[f.key] = iso8601_ms(r.*f.integer); break;
    }
  }
  return out;
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
  using K = CallRowField::Kind;
  std::string out;
  out.reserve(512);
  char separator = '{';
  for (const auto& f : call_row_fields()) {
    out += separator;
    separator = ',';
    out += '"';
    out += f.key;
    out += "\":";
    switch (f.kind) {
      case K::text_or_null: append_string_or_null(out, r.*f.text); break;
      case K::text: append_json_string(out, r.*f.text); break;
      case K::integer: out += std::to_string(r.*f.integer); break;
      case K::count: out += std::to_string(r.*f.count); break;
      case K::time: append_json_string(out, iso8601_ms(r.*f.integer)); break;
    }
  }
  out += '}';
  return out;
}

CallRow call_row_from_json(const json& j) {
  using K = CallRowField::Kind;
  CallRow r;
  for (const auto& f : call_row_fields()) {
    switch (f.kind) {
      case K::text_or_null:
      case K::text: r.*f.text = string_field(j, f.key); break;
      case K::integer: r.*f.integer = j.value(f.key, f.fallback); break;
      case K::count: r.*f.count = j.value(f.key, std::uint64_t{0}); break;
      case K::time: break;  // its integer twin is read
    }
  }
  return r;
}

}  // namespace voxlog
