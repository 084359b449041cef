// The Node app's Socket.IO events, computed from committed log events, and the Engine.IO v4 / Socket.IO v5
// packet text that carries them. Free of RESTinio: the transport lives in socketio.cpp.
//
// Contract: SocketIoTranslator::translate(change) returns the events the Node app emitted for that fact
// (payloads of its documentation, "Socket.IO Entegrasyonu", plus the fields its dashboard reads), each
// with `seq` = the change's seq, which is also the offset a client resumes after:
//   CallStatusChanged                  -> statusUpdate {execution_sid, CallStatus, DialCallStatus, To, to,
//                                         status, event (= the status), timestamp (ISO string), seq}
//   DigitsPressed                      -> dtmfUpdate {execution_sid, digits, action: null, is_action: false,
//                                         to, event: "dtmf", timestamp (ms), seq}
//   AppointmentConfirmed / Cancelled / VoicemailRequested
//                                      -> dtmfUpdate (action, is_action: true, event = the action), then
//                                         statusUpdate with event = the action
//   WebhookReceived on the flow route  -> flowUpdate (the webhook's parameters as received, plus seq)
//   BatchDialled (a start-bulk campaign placed every call; before campaigns, a batch's CampaignCompleted)
//                                      -> bulkCallComplete and bulkCallCompleted {total, success, failed,
//                                         results, errors, batch_id, seq}
//   any other event of a campaign      -> campaignUpdate {campaign_id, type, i?, phone?, seq} (voxlog's own)
// A translator remembers the last webhook it saw (a status change's DialCallStatus lives in the webhook
// committed just before it), so give each client its own and feed it the changes in seq order.
//
// Thread-safety: a translator is single-threaded; the free functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/subscriber.hpp"
#include "eventstore/status.hpp"

namespace voxlog::sio {

struct SocketIoEvent {
  std::string name;
  nlohmann::json payload;
};

class SocketIoTranslator {
 public:
  std::vector<SocketIoEvent> translate(const Change& change);

 private:
  std::string last_webhook_stream_;
  nlohmann::json last_webhook_params_ = nlohmann::json::object();
};

// The action word the Node app used for an outcome event type ("" for other types).
std::string action_for_event_type(std::string_view type);

// ---- Engine.IO v4 / Socket.IO v5 text packets ----

// Polling payloads join packets with the record separator 0x1E.
inline constexpr char kRecordSeparator = '\x1e';
std::vector<std::string> split_payload(std::string_view body);
std::string join_payload(const std::vector<std::string>& packets);

struct OpenInfo {
  std::string sid;
  bool can_upgrade = true;  // polling sessions may upgrade to websocket
  std::uint32_t ping_interval_ms = 25000;
  std::uint32_t ping_timeout_ms = 20000;
  std::uint32_t max_payload = 1000000;
};
std::string open_packet(const OpenInfo& info);  // 0{"sid",...}

// An Engine.IO message packet carrying a Socket.IO EVENT in the default namespace:
// 42["name",payload,"<seq>"]. The trailing string is the offset socket.io-client keeps (its
// connection-state recovery) and sends back as `offset` when it reconnects.
std::string event_packet(const SocketIoEvent& event, std::uint64_t seq);

// A Socket.IO CONNECT from the client: 40, 40{auth}, 40/nsp, or 40/nsp,{auth} (without the leading 4).
struct ConnectRequest {
  std::string nsp = "/";
  nlohmann::json auth = nlohmann::json::object();
};
Result<ConnectRequest> parse_connect(std::string_view socket_packet);

// The seq a client asks to resume after: auth.offset as a decimal string or number. nullopt when absent.
Result<std::optional<std::uint64_t>> resume_offset(const nlohmann::json& auth);

std::string connect_ok_packet(const std::string& socket_sid, const std::string& pid);  // 40{"sid","pid"}
std::string connect_error_packet(const std::string& nsp, const std::string& message);  // 44[/nsp,]{"message"}

// Engine.IO error bodies for a refused HTTP request: {"code","message"} as engine.io servers send them.
nlohmann::json engine_error(int code);

}  // namespace voxlog::sio
