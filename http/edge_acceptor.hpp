// voxlogd's own accept loop for RESTinio (a specialization of restinio::impl::acceptor_t for http::Traits),
// and the connection counter its connections report to. Included by restinio_fwd.hpp only.
//
// Why: RESTinio 0.6's acceptor stops accepting, for good and silently, on the first accept error; with the
// descriptor table full (EMFILE) that is the end of the server. This one:
// - caps open connections (HTTP and upgraded WebSocket alike) at the server settings'
//   max_parallel_connections (MAX_CONNECTIONS, lowered to fit the open-file limit: server.cpp); a connection
//   past the cap is accepted, answered 503 with Retry-After and closed, never left waiting or reset;
// - on EMFILE/ENFILE gives up a reserve descriptor to accept the waiting connection and refuse it (503)
//   the same way, takes the reserve back, and goes on; with no reserve left it retries every 100 ms: it
//   recovers by itself once descriptors are free again;
// - on any other error retries at once (the error was the connection's: reset, aborted).
//
// Thread-safety: everything runs on the server's io_context (one thread); the counter is atomic (a WebSocket
// connection may be released on an actor thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include <restinio/all.hpp>

#include "http/edge_socket.hpp"

namespace voxlog::http {

struct Traits;

// Counts the open connections: RESTinio's connections (and the WebSocket connections they become) hold a
// lifetime monitor that increments it when they open and decrements it when they end.
class ConnectionCounter {
 public:
  void increment_parallel_connections() noexcept { open_.fetch_add(1, std::memory_order_relaxed); }
  void decrement_parallel_connections() noexcept { open_.fetch_sub(1, std::memory_order_relaxed); }
  std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::size_t> open_{0};
};

// What the accept loop is given: the listening address, its hooks, the cap. Filled from the settings.
struct AcceptorSetup {
  asio::ip::tcp::endpoint endpoint;
  std::unique_ptr<restinio::acceptor_options_setter_t> options;
  restinio::acceptor_post_bind_hook_t post_bind;
  std::size_t max_connections = 0;
};

}  // namespace voxlog::http

namespace restinio {

template <>
struct connection_count_limit_types<voxlog::http::Traits> {
  using limiter_t = voxlog::http::ConnectionCounter;
  using lifetime_monitor_t = connection_count_limits::connection_lifetime_monitor_t<limiter_t>;
};

namespace impl {

template <>
class acceptor_t<voxlog::http::Traits> final
    : public std::enable_shared_from_this<acceptor_t<voxlog::http::Traits>> {
 public:
  using traits_t = voxlog::http::Traits;
  using factory_t = connection_factory_t<traits_t>;
  using strand_t = default_strand_t;
  using connection_lifetime_monitor_t = connection_count_limit_types<traits_t>::lifetime_monitor_t;

  template <typename Settings, typename Logger>
  acceptor_t(Settings& settings, asio::io_context& io, std::shared_ptr<factory_t> factory, Logger&)
      : io_(io),
        acceptor_(io),
        open_close_(io.get_executor()),
        retry_(io),
        factory_(std::move(factory)),
        setup_(setup_from(settings)) {}

  void open();
  void close();
  strand_t& get_open_close_operations_executor() noexcept { return open_close_; }

 private:
  template <typename Settings>
  static voxlog::http::AcceptorSetup setup_from(Settings& settings) {
    voxlog::http::AcceptorSetup s;
    asio::ip::tcp::endpoint ep{settings.protocol(), settings.port()};
    if (const auto* name = get_if<std::string>(&settings.address()))
      ep.address(asio::ip::make_address(*name == "localhost" ? std::string("127.0.0.1") : *name));
    else if (const auto* address = get_if<asio::ip::address>(&settings.address()))
      ep.address(*address);
    s.endpoint = ep;
    s.options = settings.acceptor_options_setter();
    s.post_bind = settings.giveaway_acceptor_post_bind_hook();
    s.max_connections = settings.max_parallel_connections();
    return s;
  }

  void accept_next();
  void on_accepted(const asio::error_code& ec);
  void on_descriptors_exhausted();
  void retry_later();

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  strand_t open_close_;
  asio::steady_timer retry_;
  std::shared_ptr<factory_t> factory_;
  voxlog::http::AcceptorSetup setup_;
  voxlog::http::ConnectionCounter counter_;
  std::optional<voxlog::http::EdgeSocket> incoming_;
  int reserve_fd_ = -1;  // given up to accept (and refuse) a connection when the descriptor table is full
};

}  // namespace impl
}  // namespace restinio
