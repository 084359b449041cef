#include "tests/eventstore/cut_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

namespace voxlog::test {

namespace {

// 'Q', length 11 (itself + "COMMIT\0"), "COMMIT\0": what PQexec("COMMIT") sends.
const std::string kCommit(
    "Q\0\0\0\x0b"
    "COMMIT\0",
    12);

bool send_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t sent = ::send(fd, data, n, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    n -= static_cast<std::size_t>(sent);
  }
  return true;
}

}  // namespace

CutProxy::CutProxy(int server_port) : server_port_(server_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listener_, 64);
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

CutProxy::~CutProxy() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : relays_) t.join();
}

void CutProxy::accept_loop() {
  while (!stopping_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    relays_.emplace_back([this, client] { relay(client); });
  }
}

void CutProxy::relay(int client) {
  int server = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(server_port_));
  if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(server);
    ::close(client);
    return;
  }
  bool cut = false;    // the COMMIT went through: swallow the server's answer, then hang up on both
  std::string recent;  // the tail of what the client sent, to find a COMMIT split across reads
  char buf[65536];
  while (!stopping_) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(fds, 2, 50) <= 0) continue;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0 || !send_all(server, buf, static_cast<std::size_t>(n))) break;
      recent.append(buf, static_cast<std::size_t>(n));
      if (armed_ && recent.find(kCommit) != std::string::npos) {
        armed_ = false;
        cut = true;
      }
      // Keep less than a whole message: a COMMIT already seen must not match again.
      if (recent.size() >= kCommit.size()) recent.erase(0, recent.size() - (kCommit.size() - 1));
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(server, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (cut) {
        ++cuts_;  // the answer to COMMIT arrived, and the client will never see it
        break;
      }
      if (!send_all(client, buf, static_cast<std::size_t>(n))) break;
    }
  }
  ::close(client);
  ::close(server);
}

}  // namespace voxlog::test
