// The /socket.io/ routes, the ping timer and the server's lifetime. Sessions live in socketio_session.cpp,
// protocol text in socketio_events.cpp.
#include "http/compat/socketio.hpp"

#include <algorithm>
#include <cstdlib>

#include "http/compat/socketio_events.hpp"
#include "http/compat/socketio_session.hpp"
#include "http/respond.hpp"
#include "http/websocket.hpp"

namespace voxlog {
namespace {

using http::RequestHandle;
using sio::EngineSession;
using sio::SessionHub;

std::string query_value(const QueryParams& q, const char* name) {
  auto it = q.find(name);
  return it == q.end() ? std::string() : it->second;
}

// Takes `req`'s connection onto the live io threads and ties it to `session`, which owns it (only it sends
// or closes); its frames go to the session. Null when `req` is no WebSocket upgrade.
template <class Attach>
bool upgrade(const SessionHub& hub, const RequestHandle& req, const std::shared_ptr<EngineSession>& session,
             Attach attach) {
  std::string handshake;
  auto socket = take_websocket(req, *hub.context().live_loops, hub.limits(), handshake);
  if (!socket) return false;
  attach(*session, socket);  // before the first frame can arrive
  std::weak_ptr<EngineSession> weak = session;
  socket->start(
      std::move(handshake),
      [weak](LiveSocket& from, std::string_view text) {
        if (auto s = weak.lock()) s->on_ws_text(&from, text);
      },
      [weak](LiveSocket& from) {
        if (auto s = weak.lock()) s->on_ws_closed(&from);
      });
  return true;
}

bool is_upgrade(const RequestHandle& req) {
  return restinio::http_connection_header_t::upgrade == req->header().connection();
}

restinio::request_handling_status_t handle_get(const std::shared_ptr<SessionHub>& hub,
                                               const RequestHandle& req) {
  hub->context().metrics->http_request();
  auto q = query_of(req);
  if (query_value(q, "EIO") != "4") {
    reply_engine_error(*hub, req, 5);
    return restinio::request_accepted();
  }
  std::string transport = query_value(q, "transport");
  if (transport != "polling" && transport != "websocket") {
    reply_engine_error(*hub, req, 0);
    return restinio::request_accepted();
  }
  std::string sid = query_value(q, "sid");
  if (sid.empty()) {
    if (transport == "websocket" && !is_upgrade(req)) {
      reply_engine_error(*hub, req, 3);
      return restinio::request_accepted();
    }
    // A handshake that carries a viewer's token is authorized at once (the query's only on a WebSocket
    // upgrade); else the CONNECT packet's auth must carry one.
    std::string query_token = transport == "websocket" ? query_value(q, "token") : std::string();
    auto caller = caller_for(hub->context().config, header_of(req, "Authorization"), query_token);
    auto session = hub->create(caller && caller->may(Role::viewer));
    if (!session) {
      reply_engine_error(*hub, req, 3, 503);  // SOCKETIO_MAX_SESSIONS reached
      return restinio::request_accepted();
    }
    if (transport != "websocket") {
      session->start_polling(req);
    } else if (!upgrade(*hub, req, session,
                        [](EngineSession& s, auto ws) { s.start_websocket(std::move(ws)); })) {
      session->shut_down();
      reply_engine_error(*hub, req, 3);
    }
    return restinio::request_accepted();
  }
  auto session = hub->find(sid);
  if (!session) {
    reply_engine_error(*hub, req, 1);
    return restinio::request_accepted();
  }
  if (transport == "websocket") {
    if (!is_upgrade(req)) {
      reply_engine_error(*hub, req, 3);
      return restinio::request_accepted();
    }
    if (!upgrade(*hub, req, session, [](EngineSession& s, auto ws) { s.attach_probe(std::move(ws)); }))
      reply_engine_error(*hub, req, 3);
    return restinio::request_accepted();
  }
  session->on_poll(req);
  return restinio::request_accepted();
}

restinio::request_handling_status_t handle_post(const std::shared_ptr<SessionHub>& hub,
                                                const RequestHandle& req) {
  hub->context().metrics->http_request();
  auto q = query_of(req);
  auto session = hub->find(query_value(q, "sid"));
  if (query_value(q, "EIO") != "4") {
    reply_engine_error(*hub, req, 5);
  } else if (!session) {
    reply_engine_error(*hub, req, 1);
  } else if (req->body().size() > hub->options().max_payload) {
    session->shut_down();
    reply_engine_error(*hub, req, 3, 413);
  } else if (!session->on_post(req->body())) {
    reply_engine_error(*hub, req, 3);
  } else {
    reply_text(*hub, req, "ok");
  }
  return restinio::request_accepted();
}

using ping_atom = caf::atom_constant<caf::atom("ping")>;

caf::behavior ping_ticker(caf::event_based_actor* self, std::shared_ptr<SessionHub> hub,
                          std::chrono::milliseconds period) {
  self->send(self, ping_atom::value);
  return {[=](ping_atom) {
    hub->tick();
    self->delayed_send(self, period, ping_atom::value);
  }};
}

}  // namespace

SocketIoOptions SocketIoOptions::from(const Config& config) {
  SocketIoOptions options;
  options.ping_interval_ms = static_cast<std::uint32_t>(config.socketio_ping_interval_ms);
  options.ping_timeout_ms = static_cast<std::uint32_t>(config.socketio_ping_timeout_ms);
  options.max_queue = config.ws_max_queue;
  options.max_queue_bytes = config.ws_max_queue_bytes;
  options.max_sessions = config.socketio_max_sessions;
  // socket.io's connectTimeout is 45 s, the sum of its default ping interval and timeout: so is ours.
  options.connect_timeout_ms = options.ping_interval_ms + options.ping_timeout_ms;
  return options;
}

std::unique_ptr<SocketIoServer> SocketIoServer::start(caf::actor_system& system, const ServerContext& context,
                                                      SocketIoOptions options) {
  std::unique_ptr<SocketIoServer> server(new SocketIoServer());
  server->hub_ = std::make_shared<SessionHub>(context, options);
  // A few ticks per timeout keep pings on time (the client gives up after interval + timeout).
  auto period = std::chrono::milliseconds(
      std::clamp<std::uint32_t>(std::min(options.ping_interval_ms, options.ping_timeout_ms) / 5, 5, 1000));
  server->ticker_ = system.spawn(ping_ticker, server->hub_, period);
  return server;
}

SocketIoServer::~SocketIoServer() {
  stop();
}

routes::Handler SocketIoServer::get_handler() const {
  std::shared_ptr<SessionHub> hub = hub_;
  return [hub](const RequestHandle& req, auto) { return handle_get(hub, req); };
}

routes::Handler SocketIoServer::post_handler() const {
  std::shared_ptr<SessionHub> hub = hub_;
  return [hub](const RequestHandle& req, auto) { return handle_post(hub, req); };
}

void SocketIoServer::stop() {
  if (!hub_) return;
  caf::anon_send_exit(ticker_, caf::exit_reason::user_shutdown);
  hub_->close_all();
  hub_.reset();
}

}  // namespace voxlog
