// A stand-in for voxlogd's webhook endpoints in simulator tests: a raw-socket HTTP server on 127.0.0.1.
//
// Contract: listens on a free loopback port from construction to destruction; answers every request
// 200 "ok" and records it, with the result of checking its X-Twilio-Signature (JSON variant) against
// `auth_token`. `received()` may be called from any thread while requests arrive.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace voxlog::sim::testing {

struct ReceivedWebhook {
  std::string target;  // path?query as requested
  std::string full_url;
  std::string signature;
  std::string body;
  bool signature_valid = false;
};

class WebhookReceiver {
 public:
  explicit WebhookReceiver(std::string auth_token);
  ~WebhookReceiver();

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<ReceivedWebhook> received() const;

 private:
  void serve();
  void handle(int connection);

  std::string auth_token_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<ReceivedWebhook> received_;
  std::thread thread_;
};

}  // namespace voxlog::sim::testing
