// EdgeSocket and EdgeLogger: the socket and logger types of voxlogd's RESTinio traits (restinio_fwd.hpp),
// there so that a request RESTinio cannot parse gets an answer instead of a silent close.
//
// RESTinio 0.6 closes a connection on any parse error (a malformed request line, a bad header, a body
// or header past its hard limits) without writing a status. It logs the error first, on the connection's
// thread, and closes the socket right after. EdgeLogger reads that one message ("[connection:N] parser
// error HPE_...") and leaves a refusal for this thread; EdgeSocket::shutdown(), called next by the same
// close, writes it (400, or 413/414/431 for the limits) and half-closes; EdgeSocket::close() then hands
// the socket to a lingering reader that discards what the client still sends (a 10 MB body) for a
// moment, so that the client reads the answer before the socket closes (a close with unread input
// would reset the connection and could take the answer with it).
// A connection that has an earlier (pipelined) request still under way gets no refusal: an answer
// written now would be taken for that request's. note_request() remembers requests for this check.
//
// Thread-safety: EdgeSocket is used like an asio socket, by its connection's strand only. The refusal
// and the request register are per thread (the server's io thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <restinio/asio_include.hpp>

namespace voxlog::http {

// The status and detail for a RESTinio parse error ("HPE_CB_url" → 414, ...), exposed for tests.
struct Refusal {
  int status = 400;
  std::string detail;
};
Refusal refusal_for(const std::string& parser_error_name, const std::string& description);

// Answers a connection that will not be served (`refusal`, problem+json, Connection: close) and closes it:
// at once when `linger` is false (no descriptor to spare), else after reading what its client still sends.
void refuse_connection(asio::ip::tcp::socket socket, const Refusal& refusal, bool linger = true);

// Remembers a request handed to the handlers, until its handle is released (it is then answered).
void note_request(std::uint64_t connection_id, std::weak_ptr<void> request);

// Called by EdgeLogger with RESTinio's error messages.
void note_error_message(const std::string& message);

class EdgeLogger {
 public:
  template <typename Builder>
  void trace(Builder&&) const noexcept {}
  template <typename Builder>
  void info(Builder&&) const noexcept {}
  template <typename Builder>
  void warn(Builder&&) const noexcept {}
  template <typename Builder>
  void error(Builder&& builder) const noexcept {
    try {
      note_error_message(builder());
    } catch (...) {
    }
  }
};

class EdgeSocket {
 public:
  using socket_t = asio::ip::tcp::socket;
  using executor_type = socket_t::executor_type;

  explicit EdgeSocket(asio::io_context& io) : socket_(io) {}
  EdgeSocket(EdgeSocket&&) = default;
  EdgeSocket& operator=(EdgeSocket&&) = default;

  socket_t& lowest_layer() { return socket_; }
  const socket_t& lowest_layer() const { return socket_; }
  executor_type get_executor() { return socket_.get_executor(); }
  auto remote_endpoint() const { return socket_.remote_endpoint(); }
  bool is_open() const { return socket_.is_open(); }
  auto native_handle() { return socket_.native_handle(); }

  template <typename... Args>
  void cancel(Args&&... args) {
    socket_.cancel(std::forward<Args>(args)...);
  }
  template <typename... Args>
  auto async_read_some(Args&&... args) {
    return socket_.async_read_some(std::forward<Args>(args)...);
  }
  template <typename... Args>
  auto async_write_some(Args&&... args) {
    return socket_.async_write_some(std::forward<Args>(args)...);
  }
  template <typename... Args>
  void shutdown(Args&&... args) {
    if (refuse_pending()) return;
    socket_.shutdown(std::forward<Args>(args)...);
  }
  // Reads and drops what the client still sends (bounded in time and bytes), then closes `socket`.
  static void linger(socket_t socket);

  template <typename... Args>
  void close(Args&&... args) {
    if (refused_) {
      refused_ = false;
      linger(std::move(socket_));
      return;
    }
    socket_.close(std::forward<Args>(args)...);
  }

 private:
  // Writes this thread's pending refusal, if any, and half-closes. True when it did.
  bool refuse_pending();

  socket_t socket_;
  bool refused_ = false;
};

// RESTinio's connection calls these by argument-dependent lookup, as it does for its TLS socket.
template <typename Connection, typename Start, typename Failed>
void prepare_connection_and_start_read(EdgeSocket&, Connection&, Start start, Failed) {
  start();
}
inline std::nullptr_t make_tls_socket_pointer_for_state_listener(EdgeSocket&) noexcept {
  return nullptr;
}

}  // namespace voxlog::http
