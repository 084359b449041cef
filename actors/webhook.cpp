#include "actors/webhook.hpp"

#include <atomic>

namespace voxlog {

struct WebhookReply::Once {
  explicit Once(Answer a) : answer(std::move(a)) {}
  ~Once() {
    if (!answered.exchange(true))
      answer(
          unavailable("the webhook was dropped before it was written (voxlogd is stopping, or its call "
                      "failed); Twilio will retry it"));
  }
  Answer answer;
  std::atomic<bool> answered{false};
};

WebhookReply::WebhookReply(Answer answer)
    : once_(answer ? std::make_shared<Once>(std::move(answer)) : nullptr) {}

void WebhookReply::operator()(const Result<AppendResult>& result) const {
  if (once_ && !once_->answered.exchange(true)) once_->answer(result);
}

const char* to_string(WebhookRoute route) {
  switch (route) {
    case WebhookRoute::flow: return "flow";
    case WebhookRoute::status: return "status";
    case WebhookRoute::dtmf: return "dtmf";
  }
  return "unknown";
}

std::string webhook_param(const nlohmann::json& params, std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    auto it = params.find(key);
    if (it == params.end()) continue;
    if (it->is_string()) {
      if (!it->get_ref<const std::string&>().empty()) return it->get<std::string>();
    } else if (it->is_number()) {
      return it->dump();
    } else if (it->is_array() && !it->empty() && it->front().is_string()) {
      return it->front().get<std::string>();
    }
  }
  return {};
}

}  // namespace voxlog
