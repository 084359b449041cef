#include "eventstore/status.hpp"

namespace voxlog {

const char* to_string(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return "ok";
    case StatusCode::invalid_argument: return "invalid_argument";
    case StatusCode::not_found: return "not_found";
    case StatusCode::conflict: return "conflict";
    case StatusCode::unauthenticated: return "unauthenticated";
    case StatusCode::permission_denied: return "permission_denied";
    case StatusCode::resource_exhausted: return "resource_exhausted";
    case StatusCode::unavailable: return "unavailable";
    case StatusCode::deadline_exceeded: return "deadline_exceeded";
    case StatusCode::failed_precondition: return "failed_precondition";
    case StatusCode::data_loss: return "data_loss";
    case StatusCode::internal: return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(voxlog::to_string(code_)) + ": " + message_;
}

}  // namespace voxlog
