#include "http/compat/socketio_session.hpp"

#include <limits>

#include "actors/broadcaster.hpp"
#include "http/compat/socketio_events.hpp"
#include "http/respond.hpp"

namespace voxlog::sio {
namespace {

using Clock = std::chrono::steady_clock;
using http::RequestHandle;
using http::rws::ws_handle_t;
namespace rws = http::rws;

// Distinct from the plain /ws subscribers' ids (a counter from 1): the broadcaster keys clients by id.

// One Socket.IO connection in the default namespace: the broadcaster's Subscriber. It renders the Node
// app's events and hands their packets to its session, which sends them if it is still the current socket.
class NamespaceSocket final : public Subscriber {
 public:
  NamespaceSocket(std::weak_ptr<EngineSession> session, std::uint64_t id)
      : session_(std::move(session)), id_(id) {}
  std::uint64_t id() const override { return id_; }

  bool push(const Change& change) override {
    auto events = translator_.translate(change);  // always: the translator remembers webhooks
    auto session = session_.lock();
    if (!session || events.empty()) return true;
    std::vector<std::string> packets;
    for (const auto& event : events) packets.push_back(event_packet(event, change.event.seq));
    return session->deliver(id_, std::move(packets));
  }

  // No Socket.IO DISCONNECT: a client whose transport just closes reconnects by itself, with its offset.
  void close(std::uint16_t, const std::string&) override {
    if (auto session = session_.lock()) session->end_from_broadcaster(id_);
  }

 private:
  std::weak_ptr<EngineSession> session_;
  const std::uint64_t id_;
  SocketIoTranslator translator_;  // broadcaster thread only
};

}  // namespace

SessionHub::SessionHub(const ServerContext& context, SocketIoOptions options)
    : context_(context), options_(options) {
  context_.socket_io = nullptr;  // the hub serves the server, not the other way round
}

std::string SessionHub::random_id() {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::lock_guard<std::mutex> lock(mutex_);
  std::string id(20, ' ');
  for (char& c : id) c = alphabet[random_() % 64];
  return id;
}

std::shared_ptr<EngineSession> SessionHub::create(bool authorized) {
  auto session = std::make_shared<EngineSession>(*this, random_id(), authorized);
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.emplace(session->sid(), session);
  return session;
}

std::shared_ptr<EngineSession> SessionHub::find(const std::string& sid) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second;
}

void SessionHub::remove(const std::string& sid) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.erase(sid);
}

std::vector<std::shared_ptr<EngineSession>> SessionHub::snapshot() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::shared_ptr<EngineSession>> out;
  for (auto& [sid, session] : sessions_) out.push_back(session);
  return out;
}

// Sessions lock themselves; the hub's lock is never held while one is taken (sessions call remove()).
void SessionHub::tick() {
  auto now = Clock::now();
  for (auto& session : snapshot()) session->tick(now);
}

void SessionHub::close_all() {
  for (auto& session : snapshot()) session->shut_down();
}

void reply_text(const SessionHub& hub, const RequestHandle& req, std::string body) {
  respond(hub.context(), req, HttpResponse{200, "text/plain; charset=UTF-8", std::move(body)});
}

void reply_engine_error(const SessionHub& hub, const RequestHandle& req, int code, int status) {
  respond(hub.context(), req, HttpResponse{status, "application/json", engine_error(code).dump()});
}

EngineSession::EngineSession(SessionHub& hub, std::string sid, bool authorized)
    : hub_(hub), sid_(std::move(sid)), authorized_(authorized), last_ping_(Clock::now()) {}

namespace {
OpenInfo open_info(const SessionHub& hub, const std::string& sid, bool can_upgrade) {
  OpenInfo info;
  info.sid = sid;
  info.can_upgrade = can_upgrade;
  info.ping_interval_ms = hub.options().ping_interval_ms;
  info.ping_timeout_ms = hub.options().ping_timeout_ms;
  info.max_payload = hub.options().max_payload;
  return info;
}
}  // namespace

void EngineSession::start_polling(const RequestHandle& req) {
  reply_text(hub_, req, open_packet(open_info(hub_, sid_, true)));
}

void EngineSession::start_websocket(ws_handle_t ws) {
  std::lock_guard<std::mutex> lock(mutex_);
  transport_ = Transport::websocket;
  ws_ = std::move(ws);
  send_locked(open_packet(open_info(hub_, sid_, false)));
}

void EngineSession::on_poll(const RequestHandle& req) {
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

bool EngineSession::on_post(std::string_view body) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return false;
  for (const std::string& packet : split_payload(body))
    if (!handle_packet_locked(packet)) return false;
  return true;
}

void EngineSession::attach_probe(ws_handle_t ws) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_ || transport_ == Transport::websocket) return ws->kill();
  if (probe_) probe_->kill();
  probe_ = std::move(ws);
}

void EngineSession::on_ws_text(const rws::ws_t* from, const std::string& text) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  if (probe_ && from == probe_.get()) {
    if (text == "2probe") {
      send_frame_locked(probe_, "3probe");
      upgrading_ = true;
      if (pending_poll_) answer_poll_locked("6");
    } else if (text == "5") {  // upgrade done: what polling had queued goes over the socket, in order
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

void EngineSession::on_ws_closed(const rws::ws_t* from) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (probe_ && from == probe_.get()) {
    probe_.reset();
    upgrading_ = false;
  } else if (ws_ && from == ws_.get()) {
    terminate_locked(false);
  }
}

void EngineSession::send_ws_frame(const rws::ws_t* from, const rws::message_t& frame) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (ws_handle_t* ws : {&ws_, &probe_})
    if (*ws && from == ws->get()) (*ws)->send_message(frame);
}

// A ping every interval; no pong within the timeout ends the session.
void EngineSession::tick(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  if (awaiting_pong_) {
    if (now - last_ping_ >= std::chrono::milliseconds(hub_.options().ping_timeout_ms)) terminate_locked(true);
  } else if (now - last_ping_ >= std::chrono::milliseconds(hub_.options().ping_interval_ms)) {
    last_ping_ = now;
    awaiting_pong_ = true;
    send_locked("2");
  }
}

void EngineSession::shut_down() {
  std::lock_guard<std::mutex> lock(mutex_);
  terminate_locked(true);
}

bool EngineSession::deliver(std::uint64_t socket_id, std::vector<std::string> packets) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_ || socket_id != socket_id_) return true;  // a retired socket: the broadcaster hears `leave`
  if (queued_locked() >= hub_.options().max_queue) return false;
  for (auto& packet : packets) send_locked(std::move(packet));
  return true;
}

void EngineSession::end_from_broadcaster(std::uint64_t socket_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (socket_id != socket_id_) return;
  socket_id_ = 0;  // the broadcaster has dropped it already
  terminate_locked(false);
}

std::size_t EngineSession::queued_locked() const {
  return outbox_.size() + unsent_->load();
}

void EngineSession::send_frame_locked(const ws_handle_t& ws, std::string text) {
  unsent_->fetch_add(1);
  auto unsent = unsent_;
  ws->send_message(rws::final_frame, rws::opcode_t::text_frame, restinio::writable_item_t{std::move(text)},
                   [unsent](const asio::error_code&) { unsent->fetch_sub(1); });
}

void EngineSession::send_locked(std::string packet) {
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

void EngineSession::flush_to_locked(const RequestHandle& req) {
  std::vector<std::string> packets(std::make_move_iterator(outbox_.begin()),
                                   std::make_move_iterator(outbox_.end()));
  outbox_.clear();
  reply_text(hub_, req, join_payload(packets));
}

void EngineSession::answer_poll_locked(const std::string& body) {
  reply_text(hub_, *pending_poll_, body);
  pending_poll_.reset();
}

bool EngineSession::handle_packet_locked(const std::string& packet) {
  if (packet.empty()) return true;
  switch (packet[0]) {
    case '1':  // the client closes the session
      terminate_locked(false);
      return true;
    case '2': send_locked("3" + packet.substr(1)); return true;
    case '3': awaiting_pong_ = false; return true;
    case '4': handle_socket_packet_locked(std::string_view(packet).substr(1)); return true;
    case '6': return true;
    default:  // unknown packet type (or an upgrade over polling): the protocol is broken
      terminate_locked(true);
      return false;
  }
}

void EngineSession::handle_socket_packet_locked(std::string_view packet) {
  if (packet.empty()) return;
  if (packet[0] == '0') return connect_locked(packet);
  if (packet[0] == '1') leave_locked();  // the namespace only; the Engine.IO session stays
  // EVENT/ACK from clients: the Node app's server listened to none.
}

void EngineSession::connect_locked(std::string_view packet) {
  auto request = parse_connect(packet);
  if (!request) return send_locked(connect_error_packet("/", request.status().message()));
  if (request->nsp != "/") return send_locked(connect_error_packet(request->nsp, "Invalid namespace"));
  if (!authorized_) {
    auto given = request->auth.find("token");
    std::optional<Caller> caller;
    if (given != request->auth.end() && given->is_string())
      caller = caller_for_secret(hub_.context().config, given->get<std::string>());
    if (!caller || !caller->may(Role::viewer))
      return send_locked(connect_error_packet("/", "Unauthorized: pass auth {token} with a viewer's token"));
  }
  auto offset = resume_offset(request->auth);
  if (!offset) return send_locked(connect_error_packet("/", offset.status().message()));
  if (socket_id_ != 0) return;  // already connected
  std::string pid;
  auto given_pid = request->auth.find("pid");
  if (given_pid != request->auth.end() && given_pid->is_string() &&
      given_pid->get<std::string>().size() <= 64)
    pid = given_pid->get<std::string>();
  if (pid.empty()) pid = hub_.random_id();
  send_locked(connect_ok_packet(hub_.random_id(), pid));
  socket_id_ = next_subscriber_id();
  auto socket = std::make_shared<NamespaceSocket>(weak_from_this(), socket_id_);
  // Without an offset, live from the join on, as Socket.IO's broadcasts are: the broadcaster clamps an
  // `after` beyond what it has published to what it has published. (The view's checkpoint was used here;
  // it may trail the published events by up to the projection's commit interval, and a client joining in
  // that window got an event from before it connected.)
  std::uint64_t after = offset->value_or(std::numeric_limits<std::uint64_t>::max());
  caf::anon_send(hub_.context().broadcaster, join_atom::value, SubscriberPtr(std::move(socket)), after);
}

void EngineSession::leave_locked() {
  if (socket_id_ == 0) return;
  caf::anon_send(hub_.context().broadcaster, leave_atom::value, socket_id_);
  socket_id_ = 0;
}

// Ends the session. `tell_client` answers a pending poll with CLOSE (a WebSocket just closes).
void EngineSession::terminate_locked(bool tell_client) {
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
  leave_locked();
  hub_.remove(sid_);
}

}  // namespace voxlog::sio
