#include "tools/bench/webhook_poster.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tools/bench/ws_wire.hpp"

namespace voxlog::bench {
namespace {

constexpr std::int64_t kDrainNs = 5'000'000'000;
constexpr std::int64_t kLateNs = 1'000'000;

std::int64_t clock_ns(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

std::int64_t monotonic_ns() {
  return clock_ns(CLOCK_MONOTONIC);
}

WebhookPoster::WebhookPoster(int port, std::vector<std::string> requests, std::int64_t period_ns,
                             int connections)
    : port_(port),
      requests_(std::move(requests)),
      period_ns_(period_ns),
      sent_(new std::atomic<std::int64_t>[requests_.size()]),
      sent_real_(requests_.size(), -1),
      connections_(static_cast<std::size_t>(std::max(connections, 1))) {
  for (std::size_t w = 0; w < requests_.size(); ++w) sent_[w].store(-1, std::memory_order_relaxed);
  results_.answer_ns.assign(requests_.size(), -1);
  results_.seen_ns.assign(requests_.size(), -1);
}

WebhookPoster::~WebhookPoster() {
  if (thread_.joinable()) thread_.join();
  for (Connection& c : connections_)
    if (c.fd >= 0) ::close(c.fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::string WebhookPoster::open(std::size_t p) {
  Connection& c = connections_[p];
  int fd = connect_loopback(port_);
  if (fd < 0) return std::string("cannot connect for POSTs: ") + std::strerror(errno);
  int one = 1;  // the kernel stamps each received segment; recvmsg hands the stamp over
  if (::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0) {
    ::close(fd);
    return std::string("cannot enable SO_TIMESTAMPNS: ") + std::strerror(errno);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = p;
  if (c.fd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  c.fd = fd;
  c.buffer.clear();
  c.in_flight = -1;
  return "";
}

std::string WebhookPoster::start(std::int64_t start_ns) {
  start_ns_ = start_ns;
  epoll_fd_ = epoll_create1(0);
  for (std::size_t p = 0; p < connections_.size(); ++p)
    if (std::string error = open(p); !error.empty()) return error;
  thread_ = std::thread([this] { run(); });
  return "";
}

const WebhookPoster::Results& WebhookPoster::join() {
  if (thread_.joinable()) thread_.join();
  return results_;
}

// Writes webhook `w` on a free connection; false when every connection awaits an answer.
bool WebhookPoster::send(long w) {
  for (Connection& c : connections_) {
    if (c.in_flight >= 0) continue;
    const std::string& request = requests_[static_cast<std::size_t>(w)];
    sent_real_[static_cast<std::size_t>(w)] = clock_ns(CLOCK_REALTIME);
    sent_[w].store(monotonic_ns(), std::memory_order_release);
    // ~700 bytes into an empty socket buffer: one write takes it all.
    if (::write(c.fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      results_.failure = std::string("cannot write a webhook: ") + std::strerror(errno);
      return true;
    }
    c.in_flight = w;
    return true;
  }
  return false;
}

void WebhookPoster::on_readable(std::size_t p) {
  Connection& c = connections_[p];
  bool open_still = true;
  std::int64_t stamp_real = -1;  // the kernel's receive time of the last bytes read
  for (;;) {
    char chunk[16384];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    iovec iov{chunk, sizeof chunk};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(c.fd, &msg, 0);
    if (n > 0) {
      c.buffer.append(chunk, static_cast<std::size_t>(n));
      for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS) continue;
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        stamp_real = std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
      }
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    open_still = false;
    break;
  }
  const std::int64_t seen = monotonic_ns();
  int status = 0;
  for (long used; (used = next_http_response(c.buffer, status)) != 0;) {
    if (used < 0 || c.in_flight < 0) {
      results_.failure = "unexpected bytes on POST connection " + std::to_string(p);
      return;
    }
    c.buffer.erase(0, static_cast<std::size_t>(used));
    auto w = static_cast<std::size_t>(c.in_flight);
    if (stamp_real < 0) {
      results_.failure = "an answer came without its kernel timestamp";
      return;
    }
    results_.answer_ns[w] = stamp_real - sent_real_[w];
    results_.seen_ns[w] = seen - sent_ns(w);
    if (status < 200 || status > 299) ++results_.non2xx;
    c.in_flight = -1;
  }
  if (open_still) return;
  // An idle keep-alive connection may be closed by the server; one with a webhook in flight lost it.
  if (c.in_flight >= 0) {
    results_.failure =
        "the server closed a POST connection before answering webhook " + std::to_string(c.in_flight);
    return;
  }
  if (std::string error = open(p); !error.empty()) {
    results_.failure = error;
    return;
  }
  ++results_.reconnects;
}

void WebhookPoster::run() {
  const long total = static_cast<long>(requests_.size());
  long next = 0;
  std::int64_t deadline = 0;
  epoll_event events[16];
  while (results_.failure.empty()) {
    std::int64_t t = monotonic_ns();
    while (next < total && t >= start_ns_ + next * period_ns_) {
      if (!send(next)) break;  // every connection awaits an answer: send when one frees
      if (sent_ns(static_cast<std::size_t>(next)) - (start_ns_ + next * period_ns_) > kLateNs)
        ++results_.late_sends;
      ++next;
    }
    bool all_sent = next == total;
    if (all_sent) {
      if (deadline == 0) deadline = t + kDrainNs;
      bool answered = std::all_of(connections_.begin(), connections_.end(),
                                  [](const Connection& c) { return c.in_flight < 0; });
      if (answered || t > deadline) break;
    }
    std::int64_t wait_ns =
        all_sent ? 20'000'000 : std::max<std::int64_t>(0, start_ns_ + next * period_ns_ - t);
    timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                     static_cast<long>(wait_ns % 1'000'000'000)};
    int n = epoll_pwait2(epoll_fd_, events, 16, &timeout, nullptr);
    for (int i = 0; i < n; ++i) on_readable(static_cast<std::size_t>(events[i].data.u64));
  }
  done_.store(true, std::memory_order_release);
}

}  // namespace voxlog::bench
