// Metrics: the counters and gauges voxlogd exposes at GET /metrics (Prometheus text format 0.0.4).
//
// Contract: one Metrics object per process, created by main() and passed by pointer to whoever records.
// Recording is a relaxed atomic add: cheap enough for every request and commit.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "actors/webhook.hpp"

namespace voxlog {

enum class WebhookResult { accepted, duplicate, bad_request, forbidden, failed, count_ };

class Metrics {
 public:
  void webhook(WebhookRoute route, WebhookResult result);
  void commit(std::size_t events, double seconds);
  void http_request() { http_requests_.fetch_add(1, std::memory_order_relaxed); }
  void add_subscribers(std::int64_t delta) { subscribers_.fetch_add(delta, std::memory_order_relaxed); }
  void add_call_actors(std::int64_t delta) { call_actors_.fetch_add(delta, std::memory_order_relaxed); }
  void broadcast_dropped() { slow_closed_.fetch_add(1, std::memory_order_relaxed); }

  std::int64_t subscribers() const { return subscribers_.load(); }
  std::int64_t call_actors() const { return call_actors_.load(); }

  // `extra` is appended verbatim (gauges owned by others, e.g. the log's last seq).
  std::string render(const std::string& extra = {}) const;

 private:
  static constexpr std::array<double, 12> kCommitBuckets{0.0005, 0.001, 0.002, 0.004, 0.008, 0.016,
                                                         0.032,  0.064, 0.128, 0.256, 0.512, 1.024};
  std::atomic<std::uint64_t> webhooks_[3][static_cast<int>(WebhookResult::count_)]{};
  std::atomic<std::uint64_t> commits_{0}, events_{0}, http_requests_{0}, slow_closed_{0};
  std::atomic<std::uint64_t> commit_buckets_[kCommitBuckets.size() + 1]{};
  std::atomic<std::uint64_t> commit_micros_sum_{0};
  std::atomic<std::int64_t> subscribers_{0}, call_actors_{0};
};

}  // namespace voxlog
