// Problem details (RFC 9457) and the small response value the RESTinio-free handlers return.
//
// Contract: every error voxlogd sends is `application/problem+json` with type, title, status, detail
// (and `instance`, the request path, when known), and the Node app's fields beside them: success (false),
// message and error (both = detail), code (error_code_for(status), a stable word). `problem_for(Status)`
// maps voxlog's one error type to the HTTP status a client should act on. Details never carry secrets.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "eventstore/status.hpp"

namespace voxlog {

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  int retry_after_s = 0;          // sent as Retry-After when > 0 (every 503 carries one: 1 s unless set)
  bool close_connection = false;  // Connection: close (a draining server keeps no connection open)
};

HttpResponse json_response(int status, const nlohmann::json& body);
HttpResponse problem(int status, const std::string& title, const std::string& detail,
                     const std::string& instance = {});
int http_status_for(StatusCode code);
// The machine word of an HTTP error status: invalid_argument (400, and other 4xx), unauthenticated (401),
// permission_denied (403), not_found (404), method_not_allowed (405), conflict (409), payload_too_large
// (413), uri_too_long (414), unsupported_media_type (415), misdirected_request (421), rate_limited (429),
// headers_too_large (431), internal (500, and other 5xx), unavailable (503), deadline_exceeded (504).
const char* error_code_for(int status);
HttpResponse problem_for(const Status& status, const std::string& instance = {});

}  // namespace voxlog
