// CutProxy: a TCP relay in front of the test PostgreSQL server that can lose the answer to a COMMIT:
// once armed, the next connection that sends the simple-query message "COMMIT" has it delivered, the
// server's answer read and thrown away, and then both sides closed. The transaction committed; the
// client only knows its connection died. That is the moment "acknowledged only after COMMIT" is about.
//
// Contract: for tests only. Listens on a free loopback port until destroyed; relays any number of
// connections, each on a thread of its own.
// Thread-safety: arm() from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace voxlog::test {

class CutProxy {
 public:
  explicit CutProxy(int server_port);
  ~CutProxy();
  CutProxy(const CutProxy&) = delete;
  CutProxy& operator=(const CutProxy&) = delete;

  int port() const { return port_; }
  void arm() { armed_ = true; }
  int cuts() const { return cuts_.load(); }

 private:
  void accept_loop();
  void relay(int client);

  int server_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false}, armed_{false};
  std::atomic<int> cuts_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> relays_;  // guarded by mu_
};

}  // namespace voxlog::test
