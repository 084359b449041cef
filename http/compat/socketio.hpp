// SocketIoServer: the Engine.IO v4 / Socket.IO v5 endpoint at /socket.io/, so the Node app's clients
// (the official socket.io-client 4.x, its dashboard) keep working against voxlogd.
//
// Contract: HTTP long-polling (GET to receive, POST to send; packets joined with 0x1E), the upgrade to
// WebSocket (2probe/3probe/5, the pending poll answered with a noop), and WebSocket-only sessions. The
// server pings every ping_interval_ms and closes a session whose pong does not come within
// ping_timeout_ms. Only the default namespace exists. Each connected socket is a broadcaster Subscriber:
// it joins after the seq the client names in its CONNECT auth (`offset`, also sent back automatically by
// socket.io-client's connection-state recovery, since every event carries its seq as a last string
// argument and the CONNECT reply has a `pid`), else after the current checkpoint; it then receives the
// Node app's events (socketio_events.hpp) for every later seq, in log order, however long it was away.
// Polling responses carry CORS headers for the configured allowed origins; a foreign Origin is refused
// before routing (respond.hpp screened_out). With tokens configured, the CONNECT auth must carry a
// viewer's `token` (or the handshake an Authorization header, or `?token=` on a WebSocket handshake).
//
// Lifetime: start() before the HTTP server is built (ServerContext::socket_io points to it); stop() after
// the broadcaster has closed its subscribers and before the HTTP server stops.
//
// Thread-safety: install() runs on main while the router is built; request handlers run on the io
// thread, pushes on the broadcaster; each session serialises them with its own mutex.
#pragma once

#include <cstdint>
#include <memory>

#include <caf/all.hpp>

#include "http/routes/routes.hpp"

namespace voxlog {
namespace sio {
class SessionHub;
}  // namespace sio

struct SocketIoOptions {
  std::uint32_t ping_interval_ms = 25000;  // socket.io's defaults
  std::uint32_t ping_timeout_ms = 20000;
  std::uint32_t max_payload = 1000000;       // bytes of one polling POST
  std::size_t max_queue = 1024;              // packets a client may have unsent before it is closed as slow
  std::size_t max_queue_bytes = 1 << 20;     // the same in bytes
  std::size_t max_sessions = 10000;          // Engine.IO sessions open at once (more: 503)
  std::uint32_t connect_timeout_ms = 45000;  // a session with no Socket.IO CONNECT by then is closed (the
                                             // ping interval plus timeout, as socket.io's default)

  // The heartbeat of the configuration (SOCKETIO_PING_INTERVAL_MS, SOCKETIO_PING_TIMEOUT_MS: Socket.IO's
  // defaults unless set; tests use short ones), the queue bounds (WS_MAX_QUEUE, WS_MAX_QUEUE_BYTES) and
  // SOCKETIO_MAX_SESSIONS.
  static SocketIoOptions from(const Config& config);
};

class SocketIoServer {
 public:
  // `context` supplies the allowed origins, API token, broadcaster, view and metrics; it is copied.
  static std::unique_ptr<SocketIoServer> start(caf::actor_system& system, const ServerContext& context,
                                               SocketIoOptions options);
  ~SocketIoServer();

  // The handlers of /socket.io/ for the route table (http/server.cpp): polling GETs and upgrades,
  // polling POSTs. They keep the sessions alive after stop() until the router goes.
  routes::Handler get_handler() const;
  routes::Handler post_handler() const;
  // Closes every session and stops the ping timer. Idempotent.
  void stop();

 private:
  SocketIoServer() = default;
  std::shared_ptr<sio::SessionHub> hub_;
  caf::actor ticker_;
};

}  // namespace voxlog
