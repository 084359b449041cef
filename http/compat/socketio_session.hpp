// Engine.IO sessions: the state behind one sid (its polling queue and pending GET, its WebSocket, its ping
// timer and the Socket.IO socket connected over it), and the hub that finds them by sid.
//
// Contract: the routes in socketio.cpp hand every request for a sid to its EngineSession, which owns its
// transports (its WebSocket is a LiveSocket on the live subscribers' io threads, live_socket.hpp). A
// Socket.IO CONNECT makes a NamespaceSocket, the broadcaster Subscriber of that connection; a DISCONNECT or
// the session's end retires it, so a later CONNECT on the same session never receives a stale stream.
// Live events are encoded once for every Socket.IO client (the hub's shared encoder: packets, and the
// WebSocket frames that carry them, in one shared buffer); a client catching up from the log gets its own.
// What a client has not received is bounded by bytes (WS_MAX_QUEUE_BYTES) and packets; past either the
// broadcaster closes it (4000). A session ends on a CLOSE packet, a closed WebSocket, a protocol error, a
// missed pong, no CONNECT within connect_timeout_ms, or stop(); it then leaves the broadcaster and the
// hub, and later requests for its sid get Engine.IO error 1. The hub holds at most max_sessions sessions.
//
// Thread-safety: every method may be called from any thread (io thread, broadcaster, ping timer).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/subscriber.hpp"
#include "http/compat/socketio.hpp"
#include "http/live_socket.hpp"
#include "http/restinio_fwd.hpp"

namespace voxlog::sio {

class EngineSession;

class SessionHub {
 public:
  SessionHub(const ServerContext& context, SocketIoOptions options);

  const ServerContext& context() const { return context_; }
  const SocketIoOptions& options() const { return options_; }
  const std::shared_ptr<Encoder>& encoder() const { return encoder_; }
  LiveSocket::Limits limits() const;

  // A new session with a fresh sid, registered in the hub; null when max_sessions are open. `authorized`
  // when the handshake carried a viewer's token, or the server has none (then CONNECT needs no auth.token).
  std::shared_ptr<EngineSession> create(bool authorized);
  std::shared_ptr<EngineSession> find(const std::string& sid);
  void remove(const std::string& sid);
  std::string random_id();  // 20 URL-safe characters

  void tick();       // pings and ping timeouts of every session
  void close_all();  // ends every session (shutdown)

 private:
  std::vector<std::shared_ptr<EngineSession>> snapshot();

  ServerContext context_;
  SocketIoOptions options_;
  std::shared_ptr<Encoder> encoder_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<EngineSession>> sessions_;
  std::mt19937_64 random_{std::random_device{}()};
};

// Answers an HTTP request of the Engine.IO endpoints (with CORS, respond.hpp).
void reply_text(const SessionHub& hub, const restinio::request_handle_t& req, std::string body);
void reply_engine_error(const SessionHub& hub, const restinio::request_handle_t& req, int code,
                        int status = 400);

class EngineSession : public std::enable_shared_from_this<EngineSession> {
 public:
  EngineSession(SessionHub& hub, std::string sid, bool authorized);
  const std::string& sid() const { return sid_; }

  void start_polling(const restinio::request_handle_t& req);  // answers the handshake GET
  void start_websocket(std::shared_ptr<LiveSocket> ws);       // a WebSocket-only session: open packet over it
  void on_poll(const restinio::request_handle_t& req);        // GET: answered now or parked until a packet
  bool on_post(std::string_view body);                        // false: protocol error, session ended
  void attach_probe(std::shared_ptr<LiveSocket> ws);          // the upgrade's WebSocket, before "5"
  void on_ws_text(const LiveSocket* from, std::string_view text);
  void on_ws_closed(const LiveSocket* from);
  void tick(std::chrono::steady_clock::time_point now);
  void shut_down();

  // From the broadcaster, through the session's NamespaceSocket `socket_id`: false when the queue is full.
  bool deliver(std::uint64_t socket_id, std::vector<std::string> packets);   // catching up
  bool deliver_encoded(std::uint64_t socket_id, const EncodedPtr& encoded);  // live, shared
  void end_from_broadcaster(std::uint64_t socket_id, std::uint16_t code, const std::string& reason);

 private:
  enum class Transport { polling, websocket };

  bool room_for_locked(std::size_t packets, std::size_t bytes) const;  // in the polling outbox
  void send_locked(std::string packet);
  void flush_to_locked(const restinio::request_handle_t& req);
  void answer_poll_locked(const std::string& body);
  bool handle_packet_locked(const std::string& packet);
  void handle_socket_packet_locked(std::string_view packet);
  void connect_locked(std::string_view packet);
  void leave_locked();
  void terminate_locked(bool tell_client, std::uint16_t code = 1000, const std::string& reason = {});

  SessionHub& hub_;
  const std::string sid_;
  const bool authorized_;

  std::mutex mutex_;
  Transport transport_ = Transport::polling;
  bool closed_ = false;
  bool upgrading_ = false;
  bool awaiting_pong_ = false;
  std::uint64_t socket_id_ = 0;  // the connected NamespaceSocket's subscriber id; 0 when none
  bool ever_connected_ = false;  // a CONNECT was accepted (sessions that never do expire)
  const std::chrono::steady_clock::time_point created_;
  std::chrono::steady_clock::time_point last_ping_;
  std::deque<std::string> outbox_;  // polling: packets waiting for the next GET
  std::size_t outbox_bytes_ = 0;
  std::optional<restinio::request_handle_t> pending_poll_;
  std::shared_ptr<LiveSocket> ws_;
  std::shared_ptr<LiveSocket> probe_;
};

}  // namespace voxlog::sio
