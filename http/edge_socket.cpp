#include "http/edge_socket.hpp"

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <optional>
#include <unordered_map>

#include "http/problem.hpp"
#include "http/reason_phrase.hpp"

namespace voxlog::http {
namespace {

// How long, and how much, a refused connection's remaining input is read and discarded before the close
// (a body somewhat over MAX_IMPORT_BYTES still lets its sender read the 413), and how many connections may
// linger at once (past that they close at once: a flood of bad requests takes no more descriptors).
constexpr std::chrono::seconds kLingerTime{5};
constexpr std::size_t kLingerBytes = 128u << 20;
constexpr int kMaxLingering = 64;
thread_local int lingering = 0;

// Requests handed to the handlers, by connection, on this (io) thread.
struct RequestRegister {
  std::unordered_map<std::uint64_t, std::weak_ptr<void>> last_request;
  std::size_t since_prune = 0;

  void note(std::uint64_t connection, std::weak_ptr<void> request) {
    last_request[connection] = std::move(request);
    // Answered requests' entries go in batches: the register stays as large as the requests under way.
    if (++since_prune < 1024) return;
    since_prune = 0;
    for (auto it = last_request.begin(); it != last_request.end();)
      it = it->second.expired() ? last_request.erase(it) : std::next(it);
  }

  bool under_way(std::uint64_t connection) {
    auto it = last_request.find(connection);
    if (it == last_request.end()) return false;
    bool alive = !it->second.expired();
    last_request.erase(it);
    return alive;
  }
};

thread_local RequestRegister requests;
thread_local std::optional<Refusal> pending_refusal;

std::string raw_response(const Refusal& r) {
  HttpResponse p = problem(r.status, reason_phrase(r.status), r.detail);
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
  out += "Connection: close\r\nContent-Type: application/problem+json\r\nCache-Control: no-store\r\n";
  if (r.status == 503) out += "Retry-After: 1\r\n";
  out += "Content-Length: " + std::to_string(p.body.size()) + "\r\n\r\n" + p.body;
  return out;
}

// Reads and drops what the client still sends, then closes: bounded in time and bytes.
struct Lingerer : std::enable_shared_from_this<Lingerer> {
  explicit Lingerer(asio::ip::tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {
    ++lingering;
  }
  ~Lingerer() { --lingering; }

  void start() {
    asio::error_code ignored;
    socket.cancel(ignored);  // the connection's own operations end (aborted) before ours start
    timer.expires_after(kLingerTime);
    timer.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->finish();
    });
    read();
  }
  void read() {
    socket.async_read_some(asio::buffer(buffer),
                           [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                             self->discarded += n;
                             if (ec || self->discarded > kLingerBytes) return self->finish();
                             self->read();
                           });
  }
  void finish() {
    asio::error_code ignored;
    timer.cancel(ignored);
    socket.close(ignored);
  }

  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  std::array<char, 16384> buffer{};
  std::size_t discarded = 0;
};

}  // namespace

Refusal refusal_for(const std::string& name, const std::string& description) {
  // The callbacks that fail are RESTinio's limits (incoming_http_msg_limits, server.cpp).
  if (name == "HPE_CB_url") return {414, "the request target is too long"};
  if (name == "HPE_CB_header_field" || name == "HPE_CB_header_value" || name == "HPE_HEADER_OVERFLOW")
    return {431, "the request's header fields are too large or too many"};
  if (name == "HPE_CB_headers_complete" || name == "HPE_CB_body") return {413, "the body is too large"};
  return {400, "the request is not valid HTTP/1.1 (" + description + ")"};
}

void note_request(std::uint64_t connection_id, std::weak_ptr<void> request) {
  requests.note(connection_id, std::move(request));
}

void note_error_message(const std::string& message) {
  // "[connection:{id}] parser error {name}: {description}" (restinio/impl/connection.hpp)
  static const std::string prefix = "[connection:";
  static const std::string marker = "] parser error ";
  if (message.compare(0, prefix.size(), prefix) != 0) return;
  std::size_t at = message.find(marker);
  if (at == std::string::npos) return;
  std::uint64_t connection = std::strtoull(message.c_str() + prefix.size(), nullptr, 10);
  std::size_t name_at = at + marker.size();
  std::size_t colon = message.find(':', name_at);
  if (colon == std::string::npos) return;
  std::string description = message.substr(colon + 1);
  if (!description.empty() && description[0] == ' ') description.erase(0, 1);
  if (requests.under_way(connection)) return;  // an answer now would be taken for that request's
  pending_refusal = refusal_for(message.substr(name_at, colon - name_at), description);
}

// Best effort and never blocking: a few hundred bytes fit in a fresh connection's send buffer. The
// half-close tells the client that nothing else follows.
void send_refusal(asio::ip::tcp::socket& socket, const Refusal& refusal) {
  std::string answer = raw_response(refusal);
  (void)::send(socket.native_handle(), answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  asio::error_code ignored;
  socket.shutdown(asio::socket_base::shutdown_send, ignored);
}

void refuse_connection(asio::ip::tcp::socket socket, const Refusal& refusal, bool linger) {
  if (!socket.is_open()) return;
  send_refusal(socket, refusal);
  if (linger) return EdgeSocket::linger(std::move(socket));
  // What has arrived is read before the close, which would otherwise reset the connection.
  std::array<char, 16384> sink;
  for (int i = 0; i < 4; ++i)
    if (::recv(socket.native_handle(), sink.data(), sink.size(), MSG_DONTWAIT) <= 0) break;
  asio::error_code ignored;
  socket.close(ignored);
}

bool EdgeSocket::refuse_pending() {
  if (!pending_refusal) return false;
  Refusal refusal = std::move(*pending_refusal);
  pending_refusal.reset();
  if (!socket_.is_open()) return false;
  send_refusal(socket_, refusal);
  refused_ = true;
  return true;
}

void EdgeSocket::linger(socket_t socket) {
  if (lingering >= kMaxLingering) {
    asio::error_code ignored;
    socket.close(ignored);
    return;
  }
  std::make_shared<Lingerer>(std::move(socket))->start();
}

}  // namespace voxlog::http
