#include "http/problem.hpp"

namespace voxlog {

HttpResponse json_response(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump()};
}

const char* error_code_for(int status) {
  switch (status) {
    case 400: return "invalid_argument";
    case 401: return "unauthenticated";
    case 403: return "permission_denied";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 415: return "unsupported_media_type";
    case 421: return "misdirected_request";
    case 429: return "rate_limited";
    case 431: return "headers_too_large";
    case 500: return "internal";
    case 503: return "unavailable";
    case 504: return "deadline_exceeded";
  }
  return status >= 500 ? "internal" : "invalid_argument";
}

HttpResponse problem(int status, const std::string& title, const std::string& detail,
                     const std::string& instance) {
  // success/message/error/code: the Node app's error fields, so its clients read our errors too (its
  // dashboard shows `error`).
  nlohmann::json body = {
      {"type", "about:blank"}, {"title", title},    {"status", status}, {"detail", detail},
      {"success", false},      {"message", detail}, {"error", detail},  {"code", error_code_for(status)}};
  if (!instance.empty()) body["instance"] = instance;
  // error_handler_t::replace: a detail quoting undecodable client bytes must still serialise.
  return {status, "application/problem+json",
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

int http_status_for(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return 200;
    case StatusCode::invalid_argument: return 400;
    case StatusCode::unauthenticated: return 401;
    case StatusCode::permission_denied: return 403;
    case StatusCode::not_found: return 404;
    case StatusCode::conflict: return 409;
    case StatusCode::resource_exhausted: return 503;
    case StatusCode::unavailable: return 503;
    case StatusCode::deadline_exceeded: return 504;
    case StatusCode::failed_precondition: return 500;
    case StatusCode::data_loss: return 500;
    case StatusCode::internal: return 500;
  }
  return 500;
}

HttpResponse problem_for(const Status& status, const std::string& instance) {
  static const char* titles[] = {"OK",
                                 "Bad Request",
                                 "Not Found",
                                 "Conflict",
                                 "Unauthorized",
                                 "Forbidden",
                                 "Service Unavailable",
                                 "Service Unavailable",
                                 "Gateway Timeout",
                                 "Internal Server Error",
                                 "Internal Server Error",
                                 "Internal Server Error"};
  return problem(http_status_for(status.code()), titles[static_cast<int>(status.code())], status.message(),
                 instance);
}

}  // namespace voxlog
