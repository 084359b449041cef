// Engine.IO sessions over polling and WebSocket, and the /socket.io/ routes. Protocol text lives in
// socketio_events.cpp; this file owns transports, timers and session lifetimes.
#include "http/socketio.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <random>
#include <unordered_map>

#include "actors/messages.hpp"
#include "http/respond.hpp"
#include "http/socketio_events.hpp"

namespace voxlog {
namespace {

using Clock = std::chrono::steady_clock;
using http::RequestHandle;
using http::rws::ws_handle_t;
namespace rws = http::rws;

// Distinct from the plain /ws subscribers' ids (a counter from 1): the broadcaster keys clients by id.
std::atomic<std::uint64_t> next_subscriber_id{(std::uint64_t{1} << 62) + 1};

}  // namespace

class EngineSession;

struct SocketIoServer::Hub {
  ServerContext context;
  SocketIoOptions options;
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<EngineSession>> sessions;
  std::mt19937_64 random{std::random_device{}()};

  std::string random_id() {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::lock_guard<std::mutex> lock(mutex);
    std::string id(20, ' ');
    for (char& c : id) c = alphabet[random() % 64];
    return id;
  }
  std::shared_ptr<EngineSession> find(const std::string& sid) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = sessions.find(sid);
    return it == sessions.end() ? nullptr : it->second;
  }
  void add(const std::string& sid, std::shared_ptr<EngineSession> session) {
    std::lock_guard<std::mutex> lock(mutex);
    sessions.emplace(sid, std::move(session));
  }
  void remove(const std::string& sid) {
    std::lock_guard<std::mutex> lock(mutex);
    sessions.erase(sid);
  }
  std::vector<std::shared_ptr<EngineSession>> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::shared_ptr<EngineSession>> out;
    for (auto& [sid, session] : sessions) out.push_back(session);
    return out;
  }
  void tick();
  void close_all();
};

using Hub = SocketIoServer::Hub;

namespace {

void reply(const Hub& hub, const RequestHandle& req, int status, const std::string& content_type,
           std::string body) {
  respond(hub.context, req, HttpResponse{status, content_type, std::move(body)});
}

void reply_text(const Hub& hub, const RequestHandle& req, std::string body) {
  reply(hub, req, 200, "text/plain; charset=UTF-8", std::move(body));
}

void reply_engine_error(const Hub& hub, const RequestHandle& req, int code, int status = 400) {
  reply(hub, req, status, "application/json", sio::engine_error(code).dump());
}

}  // namespace

// One Engine.IO session (and its one Socket.IO socket in the default namespace).
class EngineSession final : public Subscriber, public std::enable_shared_from_this<EngineSession> {
 public:
  EngineSession(Hub& hub, std::string sid, bool authorized_by_query)
      : hub_(hub),
        sid_(std::move(sid)),
        authorized_by_query_(authorized_by_query),
        last_ping_(Clock::now()) {}

  std::uint64_t id() const override { return subscriber_id_; }
  const std::string& sid() const { return sid_; }

  // Broadcaster thread, in seq order.
  bool push(const Change& change) override {
    auto events = translator_.translate(change);  // always: the translator remembers webhooks
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_ || !joined_) return true;
    if (queued_locked() >= hub_.options.max_queue) return false;
    for (const auto& event : events) send_locked(sio::event_packet(event, change.event.seq));
    return true;
  }

  void close(std::uint16_t, const std::string&) override {
    std::lock_guard<std::mutex> lock(mutex_);
    // No Socket.IO DISCONNECT: a client whose transport just closes reconnects by itself, with its offset.
    terminate_locked(false);
  }

  // A fresh WebSocket-only session: the open packet goes over the socket.
  void start_websocket(ws_handle_t ws) {
    std::lock_guard<std::mutex> lock(mutex_);
    transport_ = Transport::websocket;
    ws_ = std::move(ws);
    send_locked(sio::open_packet(open_info(false)));
  }

  void start_polling(const RequestHandle& req) { reply_text(hub_, req, sio::open_packet(open_info(true))); }

  void on_poll(const RequestHandle& req) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return reply_engine_error(hub_, req, 1);
    if (transport_ == Transport::websocket) return reply_engine_error(hub_, req, 3);
    if (pending_poll_) {  // two GETs at once: a broken client; engine.io closes the session
      reply_engine_error(hub_, req, 3);
      terminate_locked(true);
      return;
    }
    if (!outbox_.empty()) return flush_to_locked(req);
    if (upgrading_) return reply_text(hub_, req, "6");
    pending_poll_ = req;
  }

  // Returns false (and closes the session) on a packet that breaks the protocol.
  bool on_post(std::string_view body) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    for (const std::string& packet : sio::split_payload(body))
      if (!handle_packet_locked(packet)) return false;
    return true;
  }

  void attach_probe(ws_handle_t ws) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_ || transport_ == Transport::websocket) return ws->kill();
    if (probe_) probe_->kill();
    probe_ = std::move(ws);
  }

  // io thread: a text frame from `from` (the probe or the established socket).
  void on_ws_text(const rws::ws_t* from, const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    if (probe_ && from == probe_.get()) {
      if (text == "2probe") {
        send_frame_locked(probe_, "3probe");
        upgrading_ = true;
        if (pending_poll_) answer_poll_locked("6");
      } else if (text == "5") {
        transport_ = Transport::websocket;
        ws_ = std::move(probe_);
        if (pending_poll_) answer_poll_locked("6");
        std::deque<std::string> queued;
        queued.swap(outbox_);
        for (auto& packet : queued) send_locked(std::move(packet));
      }
      return;
    }
    if (ws_ && from == ws_.get()) handle_packet_locked(text);
  }

  void on_ws_closed(const rws::ws_t* from) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (probe_ && from == probe_.get()) {
      probe_.reset();
      upgrading_ = false;
    } else if (ws_ && from == ws_.get()) {
      terminate_locked(false);
    }
  }

  void send_ws_frame(const rws::ws_t* from, rws::message_t frame) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (ws_handle_t* ws : {&ws_, &probe_})
      if (*ws && from == ws->get()) (*ws)->send_message(frame);
  }

  // Ping timer: a ping every interval; no pong within the timeout ends the session.
  void tick(Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    const auto interval = std::chrono::milliseconds(hub_.options.ping_interval_ms);
    const auto timeout = std::chrono::milliseconds(hub_.options.ping_timeout_ms);
    if (awaiting_pong_) {
      if (now - last_ping_ >= timeout) terminate_locked(true);
    } else if (now - last_ping_ >= interval) {
      last_ping_ = now;
      awaiting_pong_ = true;
      send_locked("2");
    }
  }

  void shut_down() {
    std::lock_guard<std::mutex> lock(mutex_);
    terminate_locked(true);
  }

 private:
  enum class Transport { polling, websocket };

  sio::OpenInfo open_info(bool can_upgrade) const {
    sio::OpenInfo info;
    info.sid = sid_;
    info.can_upgrade = can_upgrade;
    info.ping_interval_ms = hub_.options.ping_interval_ms;
    info.ping_timeout_ms = hub_.options.ping_timeout_ms;
    info.max_payload = hub_.options.max_payload;
    return info;
  }

  std::size_t queued_locked() const { return outbox_.size() + unsent_->load(); }

  void send_frame_locked(const ws_handle_t& ws, std::string text) {
    unsent_->fetch_add(1);
    auto unsent = unsent_;
    ws->send_message(rws::final_frame, rws::opcode_t::text_frame, restinio::writable_item_t{std::move(text)},
                     [unsent](const asio::error_code&) { unsent->fetch_sub(1); });
  }

  void send_locked(std::string packet) {
    if (transport_ == Transport::websocket) {
      if (ws_) send_frame_locked(ws_, std::move(packet));
      return;
    }
    outbox_.push_back(std::move(packet));
    if (pending_poll_) {
      RequestHandle req = std::move(*pending_poll_);
      pending_poll_.reset();
      flush_to_locked(req);
    }
  }

  void flush_to_locked(const RequestHandle& req) {
    std::vector<std::string> packets(std::make_move_iterator(outbox_.begin()),
                                     std::make_move_iterator(outbox_.end()));
    outbox_.clear();
    reply_text(hub_, req, sio::join_payload(packets));
  }

  void answer_poll_locked(const std::string& body) {
    reply_text(hub_, *pending_poll_, body);
    pending_poll_.reset();
  }

  bool handle_packet_locked(const std::string& packet) {
    if (packet.empty()) return true;
    switch (packet[0]) {
      case '1':  // the client closes the session
        terminate_locked(false);
        return true;
      case '2':
        send_locked("3" + packet.substr(1));
        return true;
      case '3':
        awaiting_pong_ = false;
        return true;
      case '4':
        handle_socket_packet_locked(std::string_view(packet).substr(1));
        return true;
      case '6':
        return true;
      default:  // unknown packet type (or an upgrade over polling): the protocol is broken
        terminate_locked(true);
        return false;
    }
  }

  void handle_socket_packet_locked(std::string_view packet) {
    if (packet.empty()) return;
    if (packet[0] == '0') return connect_locked(packet);
    if (packet[0] == '1' && joined_) {  // the client leaves the namespace; the Engine.IO session stays
      joined_ = false;
      caf::anon_send(hub_.context.broadcaster, leave_atom::value, subscriber_id_);
    }
    // EVENT/ACK from clients: the Node app's server listened to none.
  }

  void connect_locked(std::string_view packet) {
    auto request = sio::parse_connect(packet);
    if (!request) return send_locked(sio::connect_error_packet("/", request.status().message()));
    if (request->nsp != "/") return send_locked(sio::connect_error_packet(request->nsp, "Invalid namespace"));
    const std::string& token = hub_.context.config.api_token;
    if (!token.empty() && !authorized_by_query_) {
      auto given = request->auth.find("token");
      if (given == request->auth.end() || !given->is_string() ||
          !equal_secret(given->get<std::string>(), token))
        return send_locked(sio::connect_error_packet("/", "Unauthorized: pass auth {token} (API_TOKEN)"));
    }
    auto offset = sio::resume_offset(request->auth);
    if (!offset) return send_locked(sio::connect_error_packet("/", offset.status().message()));
    if (joined_) return;
    std::string pid;
    if (auto p = request->auth.find("pid");
        p != request->auth.end() && p->is_string() && p->get<std::string>().size() <= 64)
      pid = p->get<std::string>();
    if (pid.empty()) pid = hub_.random_id();
    send_locked(sio::connect_ok_packet(hub_.random_id(), pid));
    joined_ = true;
    subscriber_id_ = next_subscriber_id++;
    std::uint64_t after = offset->value_or(hub_.context.view->checkpoint());
    caf::anon_send(hub_.context.broadcaster, join_atom::value, SubscriberPtr(shared_from_this()), after);
  }

  // Ends the session: transports closed, broadcaster and hub told. `tell_client` answers a pending poll
  // with a CLOSE packet (a WebSocket just closes).
  void terminate_locked(bool tell_client) {
    if (closed_) return;
    closed_ = true;
    if (pending_poll_) answer_poll_locked(tell_client ? "1" : "6");
    for (ws_handle_t* ws : {&ws_, &probe_}) {
      if (!*ws) continue;
      (*ws)->send_message(
          rws::final_frame, rws::opcode_t::connection_close_frame,
          restinio::writable_item_t{rws::status_code_to_bin(rws::status_code_t::normal_closure)});
      (*ws)->shutdown();
      ws->reset();
    }
    outbox_.clear();
    if (joined_) caf::anon_send(hub_.context.broadcaster, leave_atom::value, subscriber_id_);
    joined_ = false;
    hub_.remove(sid_);
  }

  Hub& hub_;
  const std::string sid_;
  const bool authorized_by_query_;
  std::uint64_t subscriber_id_ = 0;
  sio::SocketIoTranslator translator_;  // broadcaster thread only

  std::mutex mutex_;
  Transport transport_ = Transport::polling;
  bool closed_ = false;
  bool joined_ = false;
  bool upgrading_ = false;
  bool awaiting_pong_ = false;
  Clock::time_point last_ping_;
  std::deque<std::string> outbox_;  // polling: packets waiting for the next GET
  std::optional<RequestHandle> pending_poll_;
  ws_handle_t ws_;
  ws_handle_t probe_;
  std::shared_ptr<std::atomic<std::size_t>> unsent_ = std::make_shared<std::atomic<std::size_t>>(0);
};

void Hub::tick() {
  auto now = Clock::now();
  for (auto& session : snapshot()) session->tick(now);
}

void Hub::close_all() {
  for (auto& session : snapshot()) session->shut_down();
}

namespace {

std::string query_value(const QueryParams& q, const char* name) {
  auto it = q.find(name);
  return it == q.end() ? std::string() : it->second;
}

// Upgrades `req`; frames from the client are handed to the session (which owns the socket, G12).
ws_handle_t upgrade(const RequestHandle& req, std::weak_ptr<EngineSession> weak) {
  return rws::upgrade<http::Traits>(*req, rws::activation_t::immediate,
                                    [weak](ws_handle_t wsh, rws::message_handle_t m) {
                                      auto session = weak.lock();
                                      if (!session) return;
                                      switch (m->opcode()) {
                                        case rws::opcode_t::text_frame:
                                          session->on_ws_text(wsh.get(), m->payload());
                                          break;
                                        case rws::opcode_t::ping_frame: {
                                          auto pong = *m;
                                          pong.set_opcode(rws::opcode_t::pong_frame);
                                          session->send_ws_frame(wsh.get(), pong);
                                          break;
                                        }
                                        case rws::opcode_t::connection_close_frame:
                                          session->on_ws_closed(wsh.get());
                                          break;
                                        default:
                                          break;
                                      }
                                    });
}

bool is_upgrade(const RequestHandle& req) {
  return restinio::http_connection_header_t::upgrade == req->header().connection();
}

restinio::request_handling_status_t handle_get(const std::shared_ptr<Hub>& hub, const RequestHandle& req) {
  hub->context.metrics->http_request();
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
    auto session = std::make_shared<EngineSession>(
        *hub, hub->random_id(), authorized(hub->context, req) && !hub->context.config.api_token.empty());
    if (transport == "websocket") {
      if (!is_upgrade(req)) {
        reply_engine_error(*hub, req, 3);
        return restinio::request_accepted();
      }
      hub->add(session->sid(), session);
      session->start_websocket(upgrade(req, session));
    } else {
      hub->add(session->sid(), session);
      session->start_polling(req);
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
    session->attach_probe(upgrade(req, session));
    return restinio::request_accepted();
  }
  session->on_poll(req);
  return restinio::request_accepted();
}

restinio::request_handling_status_t handle_post(const std::shared_ptr<Hub>& hub, const RequestHandle& req) {
  hub->context.metrics->http_request();
  auto q = query_of(req);
  auto session = hub->find(query_value(q, "sid"));
  if (query_value(q, "EIO") != "4") {
    reply_engine_error(*hub, req, 5);
  } else if (!session) {
    reply_engine_error(*hub, req, 1);
  } else if (req->body().size() > hub->options.max_payload) {
    session->shut_down();
    reply(*hub, req, 413, "application/json", sio::engine_error(3).dump());
  } else if (!session->on_post(req->body())) {
    reply_engine_error(*hub, req, 3);
  } else {
    reply_text(*hub, req, "ok");
  }
  return restinio::request_accepted();
}

caf::behavior ping_ticker(caf::event_based_actor* self, std::shared_ptr<Hub> hub,
                          std::chrono::milliseconds period) {
  self->send(self, tick_atom::value, std::uint64_t{0});
  return {[=](tick_atom, std::uint64_t) {
    hub->tick();
    self->delayed_send(self, period, tick_atom::value, std::uint64_t{0});
  }};
}

Result<std::uint32_t> milliseconds_from_env(const char* name, std::uint32_t fallback) {
  const char* value = std::getenv(name);
  if (!value || !*value) return fallback;
  std::string s(value);
  if (s.size() > 7 || s.find_first_not_of("0123456789") != std::string::npos || std::stoul(s) < 10)
    return invalid_argument(std::string(name) + " must be a number of milliseconds between 10 and 9999999");
  return static_cast<std::uint32_t>(std::stoul(s));
}

}  // namespace

Result<SocketIoOptions> SocketIoOptions::from_environment() {
  SocketIoOptions options;
  auto interval = milliseconds_from_env("SOCKETIO_PING_INTERVAL_MS", options.ping_interval_ms);
  if (!interval) return interval.status();
  auto timeout = milliseconds_from_env("SOCKETIO_PING_TIMEOUT_MS", options.ping_timeout_ms);
  if (!timeout) return timeout.status();
  options.ping_interval_ms = *interval;
  options.ping_timeout_ms = *timeout;
  return options;
}

std::unique_ptr<SocketIoServer> SocketIoServer::start(caf::actor_system& system, const ServerContext& context,
                                                      SocketIoOptions options) {
  std::unique_ptr<SocketIoServer> server(new SocketIoServer());
  server->hub_ = std::make_shared<Hub>();
  server->hub_->context = context;
  server->hub_->context.extra_routes.clear();  // they may hold this server: no cycles
  server->hub_->options = options;
  // A few ticks per timeout keep pings on time (the client gives up after interval + timeout).
  auto period = std::chrono::milliseconds(
      std::clamp<std::uint32_t>(std::min(options.ping_interval_ms, options.ping_timeout_ms) / 5, 5, 1000));
  server->ticker_ = system.spawn(ping_ticker, server->hub_, period);
  return server;
}

SocketIoServer::~SocketIoServer() {
  stop();
}

RouteInstaller SocketIoServer::routes() {
  std::shared_ptr<Hub> hub = hub_;
  return [hub](void* raw) {
    auto& router = *static_cast<http::Router*>(raw);
    for (const char* path : {"/socket.io/", "/socket.io"}) {
      router.http_get(path, [hub](const RequestHandle& req, auto) { return handle_get(hub, req); });
      router.http_post(path, [hub](const RequestHandle& req, auto) { return handle_post(hub, req); });
      router.add_handler(restinio::http_method_options(), path, [hub](const RequestHandle& req, auto) {
        auto resp = req->create_response(restinio::status_no_content());
        add_cors(hub->context, req, resp);
        resp.append_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        resp.append_header("Access-Control-Allow-Headers", "Content-Type, Authorization");
        resp.done();
        return restinio::request_accepted();
      });
    }
  };
}

void SocketIoServer::stop() {
  if (!hub_) return;
  caf::anon_send_exit(ticker_, caf::exit_reason::user_shutdown);
  hub_->close_all();
  hub_.reset();
}

}  // namespace voxlog
