#include "http/compat/socketio_events.hpp"

#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"
#include "projections/event_types.hpp"

namespace voxlog::sio {
namespace {

using nlohmann::json;

}  // namespace

std::string action_for_event_type(std::string_view type) {
  namespace t = event_type;
  if (type == t::appointment_confirmed) return "confirm_appointment";
  if (type == t::appointment_cancelled) return "cancel_appointment";
  if (type == t::voicemail_requested) return "connect_to_representative";
  if (type == t::opt_out_requested) return "opt_out";
  return {};
}

std::vector<SocketIoEvent> SocketIoTranslator::translate(const Change& change) {
  namespace t = event_type;
  const Event& e = change.event;
  const json& data = e.data;
  std::vector<SocketIoEvent> out;

  if (e.type == t::webhook_received) {
    auto params = data.find("params");
    last_webhook_stream_ = e.stream;
    last_webhook_params_ = params != data.end() && params->is_object() ? *params : json::object();
    if (string_field(data, "route") == "flow") {
      json body = last_webhook_params_;
      body["seq"] = e.seq;
      out.push_back({"flowUpdate", std::move(body)});
    }
    return out;
  }
  if (e.stream.rfind(stream_prefix::campaign, 0) == 0 && e.type != t::batch_dialled) {
    // Any change of a campaign: the dashboard reads the campaign again (throttled on its side).
    json body = {{"campaign_id", e.stream.substr(std::string(stream_prefix::campaign).size())},
                 {"type", e.type},
                 {"seq", e.seq}};
    if (auto i = e.data.find("i"); i != e.data.end()) body["i"] = *i;
    if (auto phone = e.data.find("phone"); phone != e.data.end()) body["phone"] = *phone;
    out.push_back({"campaignUpdate", std::move(body)});
    return out;
  }
  if (e.type == t::batch_dialled || (e.type == t::campaign_completed && data.contains("batch_id"))) {
    json body = {{"total", data.value("total", json(0))},
                 {"success", data.value("success", json(0))},
                 {"failed", data.value("failed", json(0))},
                 {"results", data.value("results", json::array())},
                 {"errors", data.value("errors", json::array())},
                 {"batch_id", data.value("batch_id", json(nullptr))},
                 {"seq", e.seq}};
    out.push_back({"bulkCallComplete", body});
    out.push_back({"bulkCallCompleted", std::move(body)});
    return out;
  }

  const std::optional<CallRow>& call = change.call;
  std::string execution_sid = call ? call->execution_sid : string_field(data, "execution_sid");
  std::string to = call ? call->to : std::string();
  // The webhook just before this event in the same stream is the one that produced it.
  std::string dial_call_status =
      last_webhook_stream_ == e.stream ? string_field(last_webhook_params_, "DialCallStatus") : std::string();
  auto status_update = [&](const std::string& status, const std::string& event) {
    return SocketIoEvent{
        "statusUpdate",
        {{"execution_sid", string_or_null(execution_sid)},
         {"CallStatus", string_or_null(status)},
         {"DialCallStatus", string_or_null(dial_call_status)},
         {"To", string_or_null(to)},
         {"to", string_or_null(to)},
         {"status", string_or_null(status)},
         {"event", event},
         {"call_sid", string_or_null(call ? call->call_sid : string_field(data, "call_sid"))},
         {"timestamp", iso8601_ms(e.ts)},
         {"seq", e.seq}}};
  };
  auto dtmf_update = [&](const std::string& action, const std::string& event) {
    return SocketIoEvent{"dtmfUpdate",
                         {{"execution_sid", string_or_null(execution_sid)},
                          {"digits", string_field(data, "digits")},
                          {"action", string_or_null(action)},
                          {"is_action", !action.empty()},
                          {"to", string_or_null(to)},
                          {"event", event},
                          {"timestamp", e.ts},
                          {"seq", e.seq}}};
  };

  if (e.type == t::call_status_changed) {
    std::string status = string_field(data, "status");
    out.push_back(status_update(status, status));
  } else if (e.type == t::digits_pressed) {
    out.push_back(dtmf_update("", "dtmf"));
  } else if (std::string action = action_for_event_type(e.type); !action.empty()) {
    std::string reported = string_field(data, "action");
    if (!reported.empty()) action = reported;
    out.push_back(dtmf_update(action, action));
    out.push_back(status_update(call ? call->status : std::string(), action));
  }
  return out;
}

std::vector<std::string> split_payload(std::string_view body) {
  std::vector<std::string> packets;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find(kRecordSeparator, start);
    if (end == std::string_view::npos) end = body.size();
    if (end > start) packets.emplace_back(body.substr(start, end - start));
    start = end + 1;
  }
  return packets;
}

std::string join_payload(const std::vector<std::string>& packets) {
  std::string out;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (i) out += kRecordSeparator;
    out += packets[i];
  }
  return out;
}

std::string open_packet(const OpenInfo& info) {
  json open = {{"sid", info.sid},
               {"upgrades", info.can_upgrade ? json::array({"websocket"}) : json::array()},
               {"pingInterval", info.ping_interval_ms},
               {"pingTimeout", info.ping_timeout_ms},
               {"maxPayload", info.max_payload}};
  return "0" + open.dump();
}

std::string event_packet(const SocketIoEvent& event, std::uint64_t seq) {
  json args = json::array({event.name, event.payload, std::to_string(seq)});
  return "42" + args.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ConnectRequest> parse_connect(std::string_view packet) {
  // packet starts after the Engine.IO '4': "0", "0{...}", "0/admin,{...}"
  if (packet.empty() || packet[0] != '0') return invalid_argument("not a CONNECT packet");
  std::string_view rest = packet.substr(1);
  ConnectRequest request;
  if (!rest.empty() && rest[0] == '/') {
    std::size_t comma = rest.find(',');
    request.nsp = std::string(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  if (!rest.empty()) {
    auto auth = parse_untrusted_json(rest);
    if (!auth || !auth->is_object()) return invalid_argument("the CONNECT auth must be a JSON object");
    request.auth = std::move(*auth);
  }
  return request;
}

Result<std::optional<std::uint64_t>> resume_offset(const json& auth) {
  auto it = auth.find("offset");
  if (it == auth.end() || it->is_null()) return std::optional<std::uint64_t>();
  if (it->is_number_integer() && (it->is_number_unsigned() || it->get<std::int64_t>() >= 0))
    return std::optional<std::uint64_t>(it->get<std::uint64_t>());
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos)
      return std::optional<std::uint64_t>(std::stoull(s));
  }
  return invalid_argument("auth.offset must be the seq of the last event received (a decimal string)");
}

std::string connect_ok_packet(const std::string& socket_sid, const std::string& pid) {
  return "40" + json{{"sid", socket_sid}, {"pid", pid}}.dump();
}

std::string connect_error_packet(const std::string& nsp, const std::string& message) {
  std::string prefix = nsp == "/" ? "44" : "44" + nsp + ",";
  return prefix + json{{"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

json engine_error(int code) {
  static const char* messages[] = {"Transport unknown", "Session ID unknown", "Bad handshake method",
                                   "Bad request",       "Forbidden",          "Unsupported protocol version"};
  const char* message = code >= 0 && code < 6 ? messages[code] : "Bad request";
  return {{"code", code}, {"message", message}};
}

}  // namespace voxlog::sio
