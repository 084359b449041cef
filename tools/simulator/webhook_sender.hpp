// Sends the HTTP requests of Studio's make-http-request widget, signed the way Twilio signs them.
//
// Contract: `send_webhook` POSTs (or GETs) one request with libcurl and blocks until the answer, a
// transport error, or the 10-second timeout of Studio's HTTP widget. Every request carries
// X-Twilio-Signature keyed by `auth_token`: a JSON body gets `bodySHA256=<hex>` appended to the URL and
// the signature covers that URL alone; a form body is signed over the URL plus its sorted parameters.
// Call it from worker threads only (never from an io thread): each thread keeps its own curl handle.
// `curl_global_init` must have run before the first call (Simulator::start does it).
#pragma once

#include "http/twilio_signature.hpp"

#include <atomic>
#include <string>

namespace voxlog::sim {

struct WebhookRequest {
  std::string method = "POST";
  std::string url;
  std::string content_type;  // "application/json;charset=utf-8" or "application/x-www-form-urlencoded..."
  std::string json_body;     // for JSON requests: the rendered body, sent byte for byte
  twilio::FormParams form;   // for form requests
  std::string account_sid;   // the account whose execution sends it: its auth token signs the request
};

struct WebhookResult {
  int status_code = 0;  // 0 when no HTTP answer arrived
  std::string error;    // the transport error, when status_code is 0
  std::string body;
  std::string content_type;
  std::string signed_url;  // the URL actually requested (with bodySHA256 for JSON bodies)
};

// `cancelled`, when given and set, aborts the request in flight (used when the simulator stops).
WebhookResult send_webhook(const WebhookRequest& request, const std::string& auth_token,
                           const std::atomic<bool>* cancelled = nullptr);

// `application/x-www-form-urlencoded` encoding of `form`, in its order.
std::string form_encode(const twilio::FormParams& form);

}  // namespace voxlog::sim
