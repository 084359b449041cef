#include "http/websocket.hpp"

#include <restinio/utils/base64.hpp>
#include <restinio/utils/sha1.hpp>

#include "actors/broadcaster.hpp"

namespace voxlog {
namespace {

// The /ws message of a change, framed once for every /ws client.
class WebSocketJsonEncoder final : public Encoder {
 public:
  EncodedPtr encode(const Change& change) override {
    auto encoded = std::make_shared<Encoded>();
    encoded->frames = websocket_frame(kWsText, change.ws_json());
    return encoded;
  }
};

const std::shared_ptr<Encoder>& json_encoder() {
  static const std::shared_ptr<Encoder> encoder = std::make_shared<WebSocketJsonEncoder>();
  return encoder;
}

class WebSocketSubscriber final : public Subscriber {
 public:
  explicit WebSocketSubscriber(std::shared_ptr<LiveSocket> socket, LiveSocket::Limits limits)
      : socket_(std::move(socket)), limits_(limits) {}
  // Dropped by the broadcaster without a close of its own (at shutdown): the client is told why.
  ~WebSocketSubscriber() override { socket_->close(1001, "server shutting down"); }

  std::uint64_t id() const override { return id_; }

  // Catching up from the log: this client's own frames.
  bool push(const Change& change) override {
    return socket_->send(std::make_shared<const std::string>(websocket_frame(kWsText, change.ws_json())));
  }

  std::shared_ptr<Encoder> shared_encoder() const override { return json_encoder(); }

  bool push_encoded(const EncodedPtr& encoded) override {
    return socket_->send(LiveSocket::Frame(encoded, &encoded->frames));  // shares the one buffer
  }

  // A catch-up page fills at most half the byte limit, so replaying history never counts as slow.
  std::size_t room() const override {
    std::size_t bytes = socket_->queued_bytes();
    return bytes >= limits_.max_bytes / 2 ? 0 : limits_.max_frames / 2;
  }

  // Any frame from the client since the last heartbeat proves it alive; the ping asks for one.
  bool heartbeat() override {
    if (!socket_->take_heard()) return false;
    socket_->send_ping();
    return true;
  }

  void close(std::uint16_t code, const std::string& reason) override { socket_->close(code, reason); }

 private:
  std::shared_ptr<LiveSocket> socket_;
  const LiveSocket::Limits limits_;
  const std::uint64_t id_ = next_subscriber_id();
};

}  // namespace

LiveSocket::Limits live_limits(const Config& config) {
  LiveSocket::Limits limits;
  limits.max_bytes = config.ws_max_queue_bytes;
  limits.max_frames = config.ws_max_queue;
  return limits;
}

std::shared_ptr<LiveSocket> take_websocket(const restinio::request_handle_t& req, LiveLoops& loops,
                                           LiveSocket::Limits limits, std::string& handshake) {
  if (restinio::http_connection_header_t::upgrade != req->header().connection()) return nullptr;
  auto key = req->header().opt_value_of(restinio::http_field::sec_websocket_key);
  if (!key || key->empty()) return nullptr;
  std::string accept_source = std::string(*key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 1.3
  auto digest = restinio::utils::sha1::make_digest(accept_source);
  handshake =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      restinio::utils::base64::encode(restinio::utils::sha1::to_string(digest)) + "\r\n\r\n";

  // What RESTinio's own upgrade does, up to the socket: it leaves the connection, which then ends.
  using Connection = restinio::impl::connection_t<http::Traits>;
  using Monitor = restinio::connection_count_limit_types<http::Traits>::lifetime_monitor_t;
  auto connection = std::move(restinio::impl::access_req_connection(*req));
  if (!connection) return nullptr;
  auto internals = dynamic_cast<Connection&>(*connection).move_upgrade_internals();
  asio::error_code ec;
  auto& socket = internals.m_socket.lowest_layer();  // the plain TCP socket under the edge's wrapper
  auto protocol = socket.local_endpoint(ec).protocol();
  if (ec) return nullptr;
  int fd = socket.release(ec);
  if (ec) return nullptr;
  auto slot = std::make_shared<Monitor>(std::move(internals.m_lifetime_monitor));
  return LiveSocket::adopt(loops, protocol, fd, limits, std::move(slot));
}

restinio::request_handling_status_t upgrade_to_websocket(const restinio::request_handle_t& req,
                                                         broadcaster_actor broadcaster, std::uint64_t after,
                                                         LiveLoops& loops, LiveSocket::Limits limits) {
  std::string handshake;
  auto socket = take_websocket(req, loops, limits, handshake);
  if (!socket) return restinio::request_rejected();
  auto subscriber = std::make_shared<WebSocketSubscriber>(socket, limits);
  std::uint64_t id = subscriber->id();
  // The subscriber's frames go out after the 101: start() queues it first.
  socket->start(
      std::move(handshake), [](LiveSocket&, std::string_view) {},  // /ws clients have nothing to say
      [broadcaster, id](LiveSocket&) { caf::anon_send(broadcaster, leave_atom::value, id); });
  caf::anon_send(broadcaster, join_atom::value, SubscriberPtr(std::move(subscriber)), after);
  return restinio::request_accepted();
}

}  // namespace voxlog
