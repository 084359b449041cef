// RequestGate: the requests under way that must be answered before voxlogd stops (webhooks, call starts,
// campaign control), and whether new ones are still taken. It lets a clean stop drain: refuse what comes
// (503 with Retry-After), answer what was taken (a webhook's commit completes and gets its 200), then stop.
//
// Contract: a handler takes a token with enter() and keeps it (in its reply) until its answer is sent;
// dropping the token ends the request's turn. enter() after close() returns null: answer 503. wait_idle()
// returns once no token is alive, or after `limit` (false then). Refusals are counted in time so that
// the final stop can wait for the clients to go quiet (wait_quiet).
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace voxlog {

class RequestGate : public std::enable_shared_from_this<RequestGate> {
 public:
  std::shared_ptr<void> enter();
  void close();
  bool closed() const;
  bool wait_idle(std::chrono::milliseconds limit);
  // A request refused because the gate is closed: clients are still talking to this server.
  void refused();
  // Waits until no request has been refused for `quiet`, at most `limit`: a client that sent its next
  // request on a kept-alive connection just as the stop began gets its 503 instead of a reset.
  void wait_quiet(std::chrono::milliseconds quiet, std::chrono::milliseconds limit);

 private:
  void leave();
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t in_flight_ = 0;
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_refusal_{};
};

}  // namespace voxlog
