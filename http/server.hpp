// HttpServer: voxlogd's HTTP and WebSocket edge (RESTinio); every route is one line of the table in
// server.cpp, its handler in http/routes/ or http/compat/.
//
// Contract: the edge parses, validates, authenticates and translates requests into actor messages or
// reads of the log and projections; it holds no domain state. Webhooks are answered only once their
// events are durable (the call actor's reply). Every error is a problem+json with the right status.
// start() binds and returns once the port is listening (port 0 picks a free one: see port()).
// Shutdown order (a request handle touches its io_context when released): close subscribers through the
// broadcaster first, then stop() (no new requests), then stop the actors, and only then destroy the
// HttpServer: requests the actors still hold must be released while its io_context exists.
//
// Thread-safety: start/stop from main; handlers run on the server's io thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/call_directory.hpp"
#include "actors/metrics.hpp"
#include "eventstore/store.hpp"
#include "http/access_policy.hpp"
#include "http/config/config.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

class Projector;
class SocketIoServer;

struct ServerContext {
  Config config;
  EventStore* store = nullptr;
  CallsView* view = nullptr;
  Projector* projector = nullptr;  // reads wait for the view through it (respond.hpp answer_read); optional
  Metrics* metrics = nullptr;
  CallDirectory* calls = nullptr;  // routes webhooks to call actors
  caf::actor broadcaster;
  caf::actor dialer;
  std::string webhook_auth_token;  // verifies X-Twilio-Signature (TWILIO_AUTH_TOKEN, or the simulator's)
  std::shared_ptr<RateLimiter> rate_limiter;  // the call-placing routes' (shared by every copy)
  std::string simulator_url;                  // the embedded Twilio simulator's base URL, when it runs
  std::string static_dir;               // the dashboard's files (STATIC_DIR, else the sources' http/static)
  SocketIoServer* socket_io = nullptr;  // serves /socket.io/ (compat/socketio.hpp); required
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> start(ServerContext context);
  ~HttpServer();
  int port() const;
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxlog
