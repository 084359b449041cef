// Status and Result<T>: the one error type of voxlog.
//
// Contract: every fallible operation in voxlog (event store, projections, Twilio client, HTTP parsing)
// returns a Status or a Result<T>. A Status's code says what went wrong in terms a caller can act on,
// most importantly whether retrying the same operation may succeed (`retryable()`). Messages are for
// humans: they name the offending input and never carry secrets (tokens, passwords).
//
// Thread-safety: plain values; copy freely between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace voxlog {

enum class StatusCode {
  ok = 0,
  invalid_argument,     // the input is wrong; retrying the same input fails again
  not_found,            // the thing asked for does not exist
  conflict,             // the state changed under the caller (expected stream version, call in flight)
  unauthenticated,      // missing or bad credentials / signature
  permission_denied,    // authenticated but not allowed
  resource_exhausted,   // disk or map full, rate limit hit; retry later may succeed
  unavailable,          // transient: a peer is down, a connection dropped; retry with backoff
  deadline_exceeded,    // timed out; the outcome may be unknown
  failed_precondition,  // the system is not in a state to do this (foreign data file, store closed)
  data_loss,            // stored data is corrupt
  internal,             // a bug or an unexpected library error
};

const char* to_string(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  bool is_ok() const { return code_ == StatusCode::ok; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // May the same operation succeed if tried again later, unchanged?
  bool retryable() const {
    return code_ == StatusCode::unavailable || code_ == StatusCode::resource_exhausted ||
           code_ == StatusCode::deadline_exceeded;
  }

  // "conflict: expected version 3 of call-FN1, stream is at 4"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return {StatusCode::invalid_argument, std::move(m)};
}
inline Status not_found(std::string m) {
  return {StatusCode::not_found, std::move(m)};
}
inline Status conflict(std::string m) {
  return {StatusCode::conflict, std::move(m)};
}
inline Status unavailable(std::string m) {
  return {StatusCode::unavailable, std::move(m)};
}
inline Status resource_exhausted(std::string m) {
  return {StatusCode::resource_exhausted, std::move(m)};
}
inline Status failed_precondition(std::string m) {
  return {StatusCode::failed_precondition, std::move(m)};
}
inline Status data_loss(std::string m) {
  return {StatusCode::data_loss, std::move(m)};
}
inline Status internal_error(std::string m) {
  return {StatusCode::internal, std::move(m)};
}

// A value or the Status that explains why there is none.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.is_ok()); }  // NOLINT

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(value_);
    return *value_;
  }
  const T& value() const& {
    assert(value_);
    return *value_;
  }
  T&& value() && {
    assert(value_);
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace voxlog
