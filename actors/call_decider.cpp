#include "actors/call_decider.hpp"

#include <cstdlib>

#include "projections/event_types.hpp"

namespace voxlog {
namespace {

using nlohmann::json;

std::string param(const json& params, std::initializer_list<std::string_view> keys) {
  return webhook_param(params, keys);
}

std::optional<std::int64_t> integer_param(const json& params, std::initializer_list<std::string_view> keys) {
  std::string s = param(params, keys);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return v;
}

std::string status_for_flow_event(const std::string& event) {
  if (event == "answered" || event == "initiated" || event == "in-progress") return "in-progress";
  if (event == "no_answer" || event == "no-answer" || event == "noAnswer") return "no-answer";
  if (event == "call_failed" || event == "failed") return "failed";
  if (event == "busy" || event == "completed" || event == "ringing" || event == "canceled") return event;
  return {};
}

// Should `status` (with Twilio's SequenceNumber, if any) replace the call's current status?
bool moves_forward(const CallRow& call, const std::string& status, std::optional<std::int64_t> sequence) {
  if (status == call.status || is_terminal_status(call.status)) return false;
  if (sequence && *sequence <= call.last_sequence_number) return false;
  return status_rank(status) >= status_rank(call.status);
}

std::string outcome_event_for(const std::string& digits, const std::string& action) {
  namespace t = event_type;
  if (action == "confirm_appointment" || (action.empty() && digits == "1")) return t::appointment_confirmed;
  if (action == "cancel_appointment" || (action.empty() && digits == "2")) return t::appointment_cancelled;
  if (action == "connect_to_representative" || action == "voicemail" || (action.empty() && digits == "0"))
    return t::voicemail_requested;
  if (action == "opt_out" || (action.empty() && digits == "9")) return t::opt_out_requested;
  return {};
}

std::string outcome_of_event_type(const std::string& type) {
  namespace t = event_type;
  if (type == t::appointment_confirmed) return "confirmed";
  if (type == t::appointment_cancelled) return "cancelled";
  if (type == t::voicemail_requested) return "voicemail";
  if (type == t::opt_out_requested) return "opted-out";
  return {};
}

std::string reported_status(const json& params) {
  // A flow step names what happened in `event`; its `call_status` is the call widget's status when the
  // call was answered (still "in-progress" in the final "completed" report), so the event wins.
  std::string from_event = status_for_flow_event(param(params, {"event"}));
  if (!from_event.empty()) return from_event;
  std::string status = param(params, {"CallStatus", "call_status"});
  return status_rank(status) >= 0 ? status : std::string();
}

void decide_status(const CallRow& call, const Webhook& w, const json& params, std::vector<NewEvent>& out) {
  std::string status = reported_status(params);
  if (status_rank(status) < 0) return;
  auto sequence = integer_param(params, {"SequenceNumber"});
  if (!moves_forward(call, status, sequence)) return;
  json data = {{"status", status}, {"previous", call.status}};
  if (!w.call_sid.empty()) data["call_sid"] = w.call_sid;
  if (!w.execution_sid.empty()) data["execution_sid"] = w.execution_sid;
  if (sequence) data["sequence_number"] = *sequence;
  if (auto duration = integer_param(params, {"CallDuration", "call_duration", "duration"}))
    data["duration"] = *duration;
  std::string answered_by = param(params, {"AnsweredBy", "answered_by", "answeredby"});
  if (!answered_by.empty()) data["answered_by"] = answered_by;
  std::string direction = param(params, {"Direction", "direction"});
  if (!direction.empty()) data["direction"] = direction;
  out.push_back({event_type::call_status_changed, std::move(data)});
}

void decide_digits(const CallRow& call, const json& params, std::vector<NewEvent>& out) {
  std::string digits = param(params, {"Digits", "digits"});
  std::string action = param(params, {"action"});
  std::string event = param(params, {"event"});
  // The flow reports a key press ("dtmf") and then, for 1/2/0, the action it took ("dtmf_action") with the
  // same digits: count the keys once. An action report whose "dtmf" report never came counts its key.
  if (!digits.empty() && event != "dtmf_action") {
    out.push_back({event_type::digits_pressed, {{"digits", digits}}});
  } else if (!digits.empty() && call.digits_awaiting_action != digits) {
    out.push_back({event_type::digits_pressed, {{"digits", digits}, {"from_action_report", true}}});
  }
  std::string type = outcome_event_for(digits, action);
  if (type.empty() || outcome_of_event_type(type) == call.outcome) return;
  json data = {{"digits", digits}};
  if (!action.empty()) data["action"] = action;
  if (type == event_type::opt_out_requested) {
    // The do-not-call list (campaigns_table.hpp) takes the number from here.
    std::string to = call.to.empty() ? param(params, {"to", "To"}) : call.to;
    data["to"] = to;
  }
  out.push_back({type, std::move(data)});
}

void decide_flow(const json& params, std::vector<NewEvent>& out) {
  std::string event = param(params, {"event"});
  if (!event.empty())
    out.push_back(
        {event_type::flow_event_received, {{"event", event}, {"widget", param(params, {"widget_name"})}}});
  std::string recording = param(params, {"RecordingUrl", "recording_url"});
  if (!recording.empty()) {
    json data = {{"recording_url", recording}};
    std::string sid = param(params, {"RecordingSid", "recording_sid"});
    if (!sid.empty()) data["recording_sid"] = sid;
    out.push_back({event_type::recording_available, std::move(data)});
  }
}

}  // namespace

std::string reported_status(const Webhook& w) {
  return reported_status(w.params);
}

std::vector<NewEvent> decide(const CallRow& call, Webhook& w) {
  json received = json::object();
  received["route"] = to_string(w.route);
  received["content_type"] = w.content_type;
  received["params"] = std::move(w.params);  // moved, not copied: the biggest tree of the webhook
  w.params = json::object();
  if (!w.execution_sid.empty()) received["execution_sid"] = w.execution_sid;
  if (!w.call_sid.empty()) received["call_sid"] = w.call_sid;
  if (!w.idempotency_token.empty()) received["idempotency_token"] = w.idempotency_token;
  if (!w.account.empty()) received["account"] = w.account;
  if (!w.region.empty()) received["region"] = w.region;
  std::vector<NewEvent> out;  // not an initializer list: that would copy `received`
  out.reserve(6);             // received, status, digits, outcome, flow step, recording: never moved
  out.push_back(NewEvent{event_type::webhook_received, std::move(received)});
  const json& params = out.front().data.at("params");

  switch (w.route) {
    case WebhookRoute::status: decide_status(call, w, params, out); break;
    case WebhookRoute::dtmf: decide_digits(call, params, out); break;
    case WebhookRoute::flow:
      decide_flow(params, out);
      if (!param(params, {"Digits", "digits"}).empty()) decide_digits(call, params, out);
      if (!param(params, {"CallStatus", "call_status"}).empty()) decide_status(call, w, params, out);
      break;
  }
  return out;
}

std::string outcome_of_digits(const std::string& digits) {
  return outcome_of_event_type(outcome_event_for(digits, ""));
}

}  // namespace voxlog
