// HttpServer: voxlogd's HTTP and WebSocket edge (RESTinio); every route is one line of the table in
// server.cpp, its handler in http/routes/ or http/compat/.
//
// Contract: the edge parses, validates, authenticates and translates requests into actor messages or
// reads of the log and projections; it holds no domain state. Webhooks are answered only once their
// events are durable (the call actor's reply). Every error is a problem+json with the right status.
// start() binds and returns once the port is listening (port 0 picks a free one: see port()).
// Shutdown order: drain() first (new requests get 503, the ones under way are answered), then stop
// what appends (the dialer, the call actors), commit the views, close the subscribers, stop the actors
// and the store, and only then stop() and destroy the HttpServer: an answer from another thread, and a
// request handle released anywhere, touch its io_context, which must still run.
//
// Thread-safety: start/stop from main; handlers run on the server's io thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/broadcaster.hpp"
#include "actors/call_directory.hpp"
#include "actors/dialer.hpp"
#include "actors/metrics/metrics.hpp"
#include "eventstore/store.hpp"
#include "http/access_policy.hpp"
#include "http/config/config.hpp"
#include "http/request_gate.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

class ReadBarrier;
class SocketIoServer;
class Campaigns;

// A Twilio account whose auth token may sign webhooks: the configured ones, or the simulator's stand-ins.
struct WebhookAccount {
  std::string name;    // TwilioAccount::name, recorded with each webhook it verifies
  std::string region;  // and its region, when it has one
  std::string account_sid;
  std::string auth_token;
};

struct ServerContext {
  Config config;
  EventStore* store = nullptr;
  CallsView* view = nullptr;
  ReadBarrier* reads = nullptr;  // reads wait for the view through it (respond.hpp answer_read); optional
  Metrics* metrics = nullptr;
  CallDirectory* calls = nullptr;  // routes webhooks to call actors
  broadcaster_actor broadcaster;
  dialer_actor dialer;
  Campaigns* campaigns = nullptr;  // campaign actors and imports (actors/campaign/campaigns.hpp)
  // Verify X-Twilio-Signature: every configured account (TWILIO_AUTH_TOKEN and the named accounts' tokens),
  // or the simulator's stand-ins; the default first.
  std::vector<WebhookAccount> webhook_accounts;
  std::shared_ptr<RateLimiter> rate_limiter;  // the call-placing routes' (shared by every copy)
  std::shared_ptr<RequestGate> gate = std::make_shared<RequestGate>();  // drains before a stop
  std::string simulator_url;            // the embedded Twilio simulator's base URL, when it runs
  std::string static_dir;               // the dashboard's files (STATIC_DIR, else the sources' http/static)
  SocketIoServer* socket_io = nullptr;  // serves /socket.io/ (compat/socketio.hpp); required
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> start(ServerContext context);
  ~HttpServer();
  int port() const;
  // Refuses every new request (503, Retry-After, Connection: close) and waits, at most `limit`, until the
  // webhooks, starts and campaign controls under way have been answered. False when some were not.
  bool drain(std::chrono::milliseconds limit);
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxlog
