#include "http/edge_acceptor.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/restinio_fwd.hpp"

namespace restinio::impl {
namespace {

constexpr std::chrono::milliseconds kRetryAfterExhaustion{100};

const voxlog::http::Refusal kFull{503, "voxlogd has as many connections open as it may: retry shortly"};

bool out_of_descriptors(const asio::error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory;
}

int open_reserve() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace

using Self = acceptor_t<voxlog::http::Traits>;

void Self::open() {
  if (acceptor_.is_open()) return;
  try {
    acceptor_.open(setup_.endpoint.protocol());
    {
      acceptor_options_t options{acceptor_};
      (*setup_.options)(options);
    }
    acceptor_.bind(setup_.endpoint);
    setup_.post_bind(acceptor_);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  } catch (...) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    throw;
  }
  reserve_fd_ = open_reserve();
  accept_next();
}

void Self::close() {
  asio::error_code ignored;
  retry_.cancel(ignored);
  acceptor_.close(ignored);
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
  reserve_fd_ = -1;
}

void Self::accept_next() {
  if (!acceptor_.is_open()) return;
  incoming_.emplace(io_);
  acceptor_.async_accept(incoming_->lowest_layer(),
                         [self = shared_from_this()](const asio::error_code& ec) { self->on_accepted(ec); });
}

void Self::on_accepted(const asio::error_code& ec) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (out_of_descriptors(ec)) return on_descriptors_exhausted();
  if (ec) return accept_next();  // the connection's own failure (reset or aborted before we took it)
  if (counter_.open() >= setup_.max_connections) {
    voxlog::http::refuse_connection(std::move(incoming_->lowest_layer()), kFull);
  } else {
    try {
      asio::error_code peer_error;
      auto peer = incoming_->lowest_layer().remote_endpoint(peer_error);
      if (!peer_error)
        factory_->create_new_connection(std::move(*incoming_), peer, connection_lifetime_monitor_t{&counter_})
            ->init();
    } catch (const std::exception&) {
      // The connection could not be set up (its socket options, memory): it is closed with its socket.
    }
  }
  accept_next();
}

// The descriptor table is full: a connection waits that cannot be accepted. The reserve descriptor makes
// room for it to be accepted and refused (so that its client hears 503, not silence), then is taken back.
void Self::on_descriptors_exhausted() {
  if (reserve_fd_ < 0) return retry_later();
  ::close(reserve_fd_);
  reserve_fd_ = -1;
  int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) {
    asio::error_code assign_error;
    asio::ip::tcp::socket refused(io_);
    refused.assign(setup_.endpoint.protocol(), fd, assign_error);
    if (assign_error)
      ::close(fd);
    else
      voxlog::http::refuse_connection(std::move(refused), kFull, /*linger=*/false);
  }
  reserve_fd_ = open_reserve();
  if (reserve_fd_ < 0) return retry_later();  // what the refusal freed is taken again: wait
  accept_next();
}

void Self::retry_later() {
  if (reserve_fd_ < 0) reserve_fd_ = open_reserve();
  retry_.expires_after(kRetryAfterExhaustion);
  retry_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->accept_next();
  });
}

}  // namespace restinio::impl
