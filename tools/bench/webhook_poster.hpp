// WebhookPoster: plays Twilio for ws_latency. POSTs prepared requests at a fixed rate over a few keep-alive
// connections, on a thread and an epoll of its own, and times each answer by the kernel's receive
// timestamp of its bytes (SO_TIMESTAMPNS).
//
// Why a thread and kernel timestamps: the webhook answer's latency is the server's, as Twilio (another
// machine) sees it. Timed by the thread that also reads a thousand subscribers, an answer that arrives
// while that thread works through a round of subscriber reads was stamped when the round ended, so the
// client's own reading showed up as the server's latency. The time the poster thread saw each answer is
// kept as well (`seen_ns`), so the two can be compared.
//
// Contract: construct with the requests (whole HTTP requests, index = webhook number) and the schedule;
// start() connects and starts the thread; sent_ns(w), when webhook w was sent (-1 until then), may be read
// from any thread; join() waits for every answer (or the drain deadline) and makes the results
// readable. A connection the server closes while idle is reopened; one closed with a webhook in flight is
// a failure.
//
// Thread-safety: sent_ns() from any thread; everything else from the thread that owns the poster, and the
// results only after join().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace voxlog::bench {

std::int64_t monotonic_ns();

class WebhookPoster {
 public:
  struct Results {
    std::vector<std::int64_t> answer_ns;  // per webhook: the kernel received its answer (-1: none)
    std::vector<std::int64_t> seen_ns;    // per webhook: the poster thread read its answer (-1: none)
    long non2xx = 0, late_sends = 0, reconnects = 0;
    std::string failure;  // empty unless the run cannot be trusted
  };

  // Webhook w is due `w * period_ns` after start()'s `start_ns` (monotonic).
  WebhookPoster(int port, std::vector<std::string> requests, std::int64_t period_ns, int connections);
  ~WebhookPoster();
  WebhookPoster(const WebhookPoster&) = delete;
  WebhookPoster& operator=(const WebhookPoster&) = delete;

  std::string start(std::int64_t start_ns);  // "" when connected and running
  std::int64_t sent_ns(std::size_t w) const { return sent_[w].load(std::memory_order_acquire); }
  bool done() const { return done_.load(std::memory_order_acquire); }
  const Results& join();

 private:
  struct Connection {
    int fd = -1;
    std::string buffer;
    long in_flight = -1;
  };
  void run();
  bool send(long w);
  void on_readable(std::size_t p);
  std::string open(std::size_t p);

  const int port_;
  const std::vector<std::string> requests_;
  const std::int64_t period_ns_;
  std::int64_t start_ns_ = 0;
  std::unique_ptr<std::atomic<std::int64_t>[]> sent_;
  std::vector<std::int64_t> sent_real_;  // CLOCK_REALTIME of each send, to compare with kernel stamps
  std::vector<Connection> connections_;
  int epoll_fd_ = -1;
  Results results_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace voxlog::bench
