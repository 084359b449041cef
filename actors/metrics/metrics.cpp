#include "actors/metrics/metrics.hpp"

#include <sstream>

namespace voxlog {
namespace {
const char* result_name(int r) {
  static const char* names[] = {"accepted", "duplicate", "bad_request", "forbidden", "failed"};
  return names[r];
}
}  // namespace

void Metrics::webhook(WebhookRoute route, WebhookResult result) {
  webhooks_[static_cast<int>(route)][static_cast<int>(result)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::commit(std::size_t events, double seconds) {
  commits_.fetch_add(1, std::memory_order_relaxed);
  events_.fetch_add(events, std::memory_order_relaxed);
  commit_micros_sum_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  std::size_t b = 0;
  while (b < kCommitBuckets.size() && seconds > kCommitBuckets[b]) ++b;
  commit_buckets_[b].fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(const std::string& extra) const {
  std::ostringstream o;
  o << "# HELP voxlog_webhooks_total Twilio webhooks received, by route and result.\n"
       "# TYPE voxlog_webhooks_total counter\n";
  for (int route = 0; route < 3; ++route)
    for (int r = 0; r < static_cast<int>(WebhookResult::count_); ++r)
      o << "voxlog_webhooks_total{route=\"" << to_string(static_cast<WebhookRoute>(route)) << "\",result=\""
        << result_name(r) << "\"} " << webhooks_[route][r].load() << '\n';
  o << "# HELP voxlog_events_appended_total Events committed to the log.\n"
       "# TYPE voxlog_events_appended_total counter\nvoxlog_events_appended_total "
    << events_.load() << "\n# HELP voxlog_commits_total Write transactions committed (group commits).\n"
    << "# TYPE voxlog_commits_total counter\nvoxlog_commits_total " << commits_.load() << '\n';
  o << "# HELP voxlog_commit_seconds Time from transaction begin to durable commit.\n"
       "# TYPE voxlog_commit_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kCommitBuckets.size(); ++b) {
    cumulative += commit_buckets_[b].load();
    o << "voxlog_commit_seconds_bucket{le=\"" << kCommitBuckets[b] << "\"} " << cumulative << '\n';
  }
  cumulative += commit_buckets_[kCommitBuckets.size()].load();
  o << "voxlog_commit_seconds_bucket{le=\"+Inf\"} " << cumulative << '\n'
    << "voxlog_commit_seconds_sum " << commit_micros_sum_.load() / 1e6 << '\n'
    << "voxlog_commit_seconds_count " << cumulative << '\n';
  o << "# HELP voxlog_websocket_subscribers Connected live subscribers (WebSocket and Socket.IO).\n"
       "# TYPE voxlog_websocket_subscribers gauge\nvoxlog_websocket_subscribers "
    << subscribers_.load()
    << "\n# HELP voxlog_slow_subscribers_closed_total Subscribers closed for a full queue.\n"
    << "# TYPE voxlog_slow_subscribers_closed_total counter\nvoxlog_slow_subscribers_closed_total "
    << slow_closed_.load() << "\n# HELP voxlog_call_actors Call actors alive.\n"
    << "# TYPE voxlog_call_actors gauge\nvoxlog_call_actors " << call_actors_.load() << '\n'
    << "# HELP voxlog_http_requests_total HTTP requests handled.\n# TYPE voxlog_http_requests_total counter\n"
    << "voxlog_http_requests_total " << http_requests_.load() << '\n';
  o << extra;
  return o.str();
}

}  // namespace voxlog
