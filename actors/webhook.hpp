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
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "eventstore/store.hpp"

namespace voxlog {

enum class WebhookRoute { flow, status, dtmf };
const char* to_string(WebhookRoute route);

// The first value among `keys` in a webhook's parameters (Twilio's form names and the flow's snake_case
// names), as text: a string, a number's digits, or the first of a repeated form name's values; "" when
// none has one. The one lookup of webhook parameters, for the dedupe key and the decider alike.
std::string webhook_param(const nlohmann::json& params, std::initializer_list<std::string_view> keys);

struct Webhook {
  WebhookRoute route = WebhookRoute::status;
  std::string content_type;  // "json" or "form"
  nlohmann::json params = nlohmann::json::object();
  std::string execution_sid;
  std::string call_sid;
  std::string dedupe;
  std::string idempotency_token;  // I-Twilio-Idempotency-Token, when present
  // The Twilio account whose auth token verified the signature (its configured name); empty when
  // webhooks are not verified (VERIFY_WEBHOOKS=off). A call placed through one account refuses webhooks
  // verified by another (call_actor.cpp).
  std::string account;
  std::string region;  // that account's region, when it has one
  std::int64_t received_ms = 0;
};

// How the actors answer the edge: exactly once, on any thread, after the webhook's events are durable (or
// with the reason they could not be written). It is a completion, not a CAF response: a response needs an
// actor to receive it, one more hand-off per webhook (tools/bench/README.md, "Answering a webhook"). Like a
// response promise it cannot be lost: a reply dropped unanswered (its actor failed with the webhook in its
// mailbox, the actor system stopped) answers `unavailable` when its last copy goes, so Twilio retries.
//
// Thread-safety: copies share one answer; the first call answers and later ones do nothing, from any thread.
class WebhookReply {
 public:
  using Answer = std::function<void(const Result<AppendResult>&)>;
  WebhookReply() = default;  // answers nothing: for a moved-from or unused value only
  explicit WebhookReply(Answer answer);
  void operator()(const Result<AppendResult>& result) const;

 private:
  struct Once;
  std::shared_ptr<Once> once_;
};

}  // namespace voxlog
