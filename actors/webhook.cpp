#include "actors/webhook.hpp"

namespace voxlog {

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
