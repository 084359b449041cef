// Parsing Twilio webhooks at the edge: bodies, identities, dedupe keys.
//
// Contract: parse_webhook() turns one request (route, content type, raw body, idempotency header) into
// a Webhook, or invalid_argument saying exactly what is wrong (malformed JSON, a JSON body that is not an
// object, a form body with bad percent-encoding, no execution_sid / CallSid at all, an unsupported content
// type). It never touches state. The dedupe key comes from what X-Twilio-Signature covers, never from
// unsigned headers: for a status callback (CallSid, SequenceNumber, CallStatus); else the SHA-256 of the
// raw body (a retry repeats the body byte for byte). I-Twilio-Idempotency-Token is kept in the webhook
// for the record and decides nothing.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/webhook.hpp"
#include "eventstore/status.hpp"

namespace voxlog {

using FormParams = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded (and query strings): '+' is a space, %XX decoded. Lenient like
// Twilio's own parsers about unescaped characters; strict about broken %-escapes.
Result<FormParams> parse_form(std::string_view body);

// "application/json; charset=utf-8" -> "json"; form -> "form"; else "".
std::string body_kind(std::string_view content_type);

// `form`: the body already parsed by parse_form (the signature check needs it too), or null. Its strings
// are moved into the webhook: the caller's copy is left empty.
Result<Webhook> parse_webhook(WebhookRoute route, std::string_view content_type, std::string_view body,
                              std::string_view idempotency_token, std::int64_t received_ms,
                              FormParams* form = nullptr);

// The form params as a JSON object: name -> value, a repeated name -> array of values in order.
nlohmann::json form_to_json(FormParams params);

}  // namespace voxlog
