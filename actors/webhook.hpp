// Webhook: one Twilio request as the HTTP edge hands it to the actors, already authenticated.
//
// Contract: `params` are the parameters exactly as received (a JSON body's object, or a form body's
// name -> value strings; a repeated form name -> array of strings). `execution_sid` / `call_sid` are
// the identities found in them (at least one is set). `dedupe` comes from what the signature
// covers (webhook_parse.hpp), never from unsigned headers.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "eventstore/store.hpp"

namespace voxlog {

enum class WebhookRoute { flow, status, dtmf };
const char* to_string(WebhookRoute route);

struct Webhook {
  WebhookRoute route = WebhookRoute::status;
  std::string content_type;  // "json" or "form"
  nlohmann::json params = nlohmann::json::object();
  std::string execution_sid;
  std::string call_sid;
  std::string dedupe;
  std::string idempotency_token;  // I-Twilio-Idempotency-Token, when present
  std::int64_t received_ms = 0;
};

// How the actors answer the edge: called once, on any thread, after the webhook's events are durable
// (or with the reason they could not be written).
using WebhookReply = std::function<void(const Result<AppendResult>&)>;

}  // namespace voxlog
