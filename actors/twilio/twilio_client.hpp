// StudioClient: the blocking Twilio Studio v2 REST client (executions and flows) over libcurl.
//
// Contract: every call blocks until it has an answer, retries included, so run it on a dedicated or
// detached thread, never on the CAF scheduler. Each call returns an ApiResult: the value, or an ApiError
// whose `status` is the voxlog Status (its code says what a caller can do: invalid_argument, unauthenticated,
// not_found, conflict, resource_exhausted, unavailable, deadline_exceeded) and which keeps Twilio's own
// `twilio_code` and `http_status` (0 when absent) so that the dialer can record them. Both Twilio error
// shapes are understood: classic {code, message, more_info, status} and RFC 9457 {type, title, status, code,
// detail}. The status message reads "Twilio 21211 (HTTP 400): The 'To' number ... is not valid".
//
// Retries: 429 / Twilio 20429 and failures where the request was never sent (connection refused, DNS,
// connect timeout) are retried up to `max_attempts` with full-jitter exponential backoff (a Retry-After
// header, when present, is honoured up to `backoff_cap`). A request whose outcome is unknown (the connection
// dropped or timed out after the request was sent, or a 5xx) is retried only when it is safe: reads and
// "end execution" are idempotent. For create_execution the client first lists the contact's executions
// created since the attempt began (minus `clock_skew_allowance`, since date_created is Twilio's clock) and
// adopts one if it exists, so nobody is called twice; if that check itself fails, the create is not
// retried and the error says the outcome is unknown. create_flow is never retried on an unknown outcome.
//
// Secrets: the auth token goes to libcurl as the Basic-auth password only; it never appears in a URL, an
// error message or a log line. Base URL: `base_url` (TWILIO_API_BASE); pagination links returned by the
// server are re-rooted onto it, so tests and the simulator are never redirected elsewhere.
//
// Thread-safety: a StudioClient owns one curl handle (kept for connection reuse) and is NOT thread-safe:
// use one per thread. Different instances may be used concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eventstore/status.hpp"

namespace voxlog {

// Initialises libcurl once per process. Cheap to call again; StudioClient's constructor calls it, but a
// program should call it in main() before it starts threads.
void init_http_client();

struct ApiError {
  Status status;
  int http_status = 0;  // 0: no HTTP response (connection failure, timeout)
  int twilio_code = 0;  // 0: the response carried no Twilio error code
};

// The value of a Studio call, or the ApiError explaining why there is none.
template <class T>
class ApiResult {
 public:
  ApiResult(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design, like Result
  ApiResult(ApiError error) : error_(std::move(error)) {}  // NOLINT

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const ApiError& error() const { return error_; }
  const Status& status() const { return error_.status; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  ApiError error_;
};

struct ClientOptions {
  std::string base_url = "https://studio.twilio.com";  // no trailing '/'
  std::string account_sid;
  std::string auth_token;
  std::string flow_sid;  // FW...: the flow whose executions this client creates
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};  // whole request, connect included
  int max_attempts = 5;                              // per operation, first try included
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_cap{8000};
  std::chrono::seconds clock_skew_allowance{30};
  std::uint64_t rng_seed = 0;  // 0: seeded from std::random_device
};

struct Execution {
  std::string sid;           // FN...
  std::string status;        // "active" | "ended"
  std::string contact;       // contact_channel_address, the number called
  std::string flow_sid;      // FW...
  std::string date_created;  // ISO 8601, Twilio's clock
  bool adopted = false;      // true when create_execution found it after an unknown outcome
  nlohmann::json context;    // its Context's `context` (widgets' outputs), when fetched with it
  nlohmann::json raw;        // the whole resource as received
};

struct FlowInfo {
  std::string sid;  // FW...; empty for a validation
  std::string status;
  int revision = 0;
  bool valid = false;
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json warnings = nlohmann::json::array();
  nlohmann::json raw;
};

struct FlowRequest {
  std::string friendly_name;
  std::string status = "published";  // "draft" | "published"
  nlohmann::json definition;         // the definition object itself (flow.json), not a wrapped Flow
  std::string commit_message;        // optional
};

class StudioClient {
 public:
  explicit StudioClient(ClientOptions options);
  ~StudioClient();
  StudioClient(const StudioClient&) = delete;
  StudioClient& operator=(const StudioClient&) = delete;

  // POST /v2/Flows/{flow_sid}/Executions with To, From and Parameters (a JSON object sent as a string).
  ApiResult<Execution> create_execution(const std::string& to, const std::string& from,
                                        const nlohmann::json& parameters);
  // GET /v2/Flows/{flow_sid}/Executions/{sid}
  ApiResult<Execution> fetch_execution(const std::string& sid);
  // GET …/Executions/{sid}/Context: the flow's variables, among them each widget's outputs (the call
  // widget's CallStatus, the gather widget's Digits).
  ApiResult<nlohmann::json> execution_context(const std::string& sid);
  // POST /v2/Flows/{flow_sid}/Executions/{sid} with Status=ended
  ApiResult<Execution> end_execution(const std::string& sid);
  // The active executions whose contact is `to`, following every page.
  ApiResult<std::vector<Execution>> active_executions_for(const std::string& to);
  // The executions whose contact is `to` created at or after `since` (epoch seconds, Twilio's clock: allow
  // for skew), ended or not, following every page. Recovery asks this before dialling again.
  ApiResult<std::vector<Execution>> executions_since(const std::string& to, std::time_t since);

  // POST /v2/Flows/Validate; a definition Twilio rejects is an ApiError (invalid_argument) with its details.
  ApiResult<FlowInfo> validate_flow(const FlowRequest& request);
  // POST /v2/Flows: a new flow (never retried on an unknown outcome: it would make two flows).
  ApiResult<FlowInfo> create_flow(const FlowRequest& request);
  // POST /v2/Flows/{flow_sid}: a new revision of an existing flow.
  ApiResult<FlowInfo> update_flow(const std::string& flow_sid, const FlowRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxlog
