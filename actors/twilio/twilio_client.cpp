#include "actors/twilio/twilio_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include <curl/curl.h>

#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"

namespace voxlog {
namespace {

using json = nlohmann::json;

constexpr int kMaxPages = 200;  // a broken next_page_url must not loop forever
constexpr std::size_t kMaxDetailChars = 600;

struct HttpResponse {
  CURLcode curl = CURLE_OK;
  std::string curl_detail;
  bool sent = false;  // did any byte of the request leave? (then the server may have acted on it)
  long http_status = 0;
  std::string body;
  long retry_after_seconds = -1;
};

// What the retry loop may do after a failed attempt.
enum class Failure {
  final,       // the server answered no: retrying the same request fails again
  retry_safe,  // not processed (never sent, or 429 / 20429): retry after backoff
  unknown,     // sent, then no answer or a 5xx: the server may have acted on it
};

size_t append_body(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

size_t read_header(char* data, size_t size, size_t count, void* out) {
  std::string line(data, size * count);
  std::string lower = line;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  if (lower.rfind("retry-after:", 0) == 0) {
    long seconds = std::strtol(line.c_str() + 12, nullptr, 10);
    if (seconds >= 0) static_cast<HttpResponse*>(out)->retry_after_seconds = seconds;
  }
  return size * count;
}

std::string truncated(std::string text, std::size_t limit = kMaxDetailChars) {
  if (text.size() > limit) text = text.substr(0, limit) + "...";
  return text;
}

StatusCode code_for_http(long http_status) {
  switch (http_status) {
    case 400:
    case 422: return StatusCode::invalid_argument;
    case 401: return StatusCode::unauthenticated;
    case 403: return StatusCode::permission_denied;
    case 404: return StatusCode::not_found;
    case 409: return StatusCode::conflict;
    case 429: return StatusCode::resource_exhausted;
    default: break;
  }
  if (http_status >= 500) return StatusCode::unavailable;
  return StatusCode::internal;
}

// Both Twilio error bodies: classic {code, message, more_info, status, details?} and
// RFC 9457 {type, title, status, code, detail?, errors?}. Anything else is quoted (truncated).
ApiError error_from_response(const HttpResponse& r) {
  ApiError error;
  error.http_status = static_cast<int>(r.http_status);
  std::string text;
  auto parsed = parse_untrusted_json(r.body);
  json body = parsed ? std::move(*parsed) : json();
  if (body.is_object()) {
    if (body.contains("code") && body["code"].is_number_integer())
      error.twilio_code = body["code"].get<int>();
    for (const char* key : {"message", "detail", "title"}) {
      if (body.contains(key) && body[key].is_string() && !body[key].get<std::string>().empty()) {
        text = body[key].get<std::string>();
        break;
      }
    }
    for (const char* key : {"details", "errors"}) {
      if (body.contains(key) && !body[key].is_null()) text += " " + truncated(body[key].dump());
    }
  } else if (!r.body.empty()) {
    text = truncated(r.body, 200);
  }
  std::string message = error.twilio_code ? "Twilio " + std::to_string(error.twilio_code) + " (HTTP " +
                                                std::to_string(r.http_status) + ")"
                                          : "HTTP " + std::to_string(r.http_status);
  if (!text.empty()) message += ": " + text;
  StatusCode code =
      error.twilio_code == 20429 ? StatusCode::resource_exhausted : code_for_http(r.http_status);
  error.status = Status(code, message);
  return error;
}

ApiError error_from_transport(const HttpResponse& r, const std::string& base_url) {
  ApiError error;
  std::string what = curl_easy_strerror(r.curl);
  if (!r.curl_detail.empty()) what += " (" + r.curl_detail + ")";
  if (!r.sent) {
    error.status = unavailable("cannot reach Twilio at " + base_url + ": " + what);
  } else {
    error.status = Status(StatusCode::deadline_exceeded,
                          "no answer from Twilio at " + base_url + " after the request was sent: " + what);
  }
  return error;
}

Failure classify(const HttpResponse& r, const ApiError& error) {
  if (r.curl != CURLE_OK) return r.sent ? Failure::unknown : Failure::retry_safe;
  if (r.http_status == 429 || error.twilio_code == 20429) return Failure::retry_safe;
  if (r.http_status >= 500) return Failure::unknown;
  return Failure::final;
}

ApiError with_prefix(ApiError error, const std::string& prefix) {
  error.status = Status(error.status.code(), prefix + error.status.message());
  return error;
}

bool is_sid(const std::string& s) {
  return s.size() >= 3 && std::all_of(s.begin(), s.end(), [](unsigned char ch) { return std::isalnum(ch); });
}

ApiError bad_argument(const std::string& message) {
  return ApiError{invalid_argument(message), 0, 0};
}

Execution execution_from(const json& j) {
  Execution e;
  e.sid = string_field(j, "sid");
  e.status = string_field(j, "status");
  e.contact = string_field(j, "contact_channel_address");
  e.flow_sid = string_field(j, "flow_sid");
  e.date_created = string_field(j, "date_created");
  e.raw = j;
  return e;
}

FlowInfo flow_from(const json& j) {
  FlowInfo f;
  f.sid = string_field(j, "sid");
  f.status = string_field(j, "status");
  if (j.contains("revision") && j["revision"].is_number_integer()) f.revision = j["revision"].get<int>();
  f.valid = j.value("valid", false);
  if (j.contains("errors") && j["errors"].is_array()) f.errors = j["errors"];
  if (j.contains("warnings") && j["warnings"].is_array()) f.warnings = j["warnings"];
  f.raw = j;
  return f;
}

}  // namespace

void init_http_client() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct StudioClient::Impl {
  ClientOptions options;
  CURL* curl = nullptr;
  std::mt19937_64 rng;

  // Returning a value ends the retry loop with it; nullopt means "not done: retry the request".
  using Recovery = std::function<std::optional<ApiResult<json>>()>;
  enum class OnUnknown { retry, fail };

  explicit Impl(ClientOptions o) : options(std::move(o)) {
    while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
    rng.seed(options.rng_seed ? options.rng_seed : std::random_device{}());
    curl = curl_easy_init();
  }
  ~Impl() { curl_easy_cleanup(curl); }

  std::string escape(const std::string& text) {
    char* escaped = curl_easy_escape(curl, text.data(), static_cast<int>(text.size()));
    std::string out = escaped ? escaped : "";
    curl_free(escaped);
    return out;
  }

  std::string form(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string body;
    for (const auto& [key, value] : fields) body += (body.empty() ? "" : "&") + key + "=" + escape(value);
    return body;
  }

  HttpResponse perform(const char* method, const std::string& path, const std::string& form_body) {
    HttpResponse r;
    char error_text[CURL_ERROR_SIZE] = "";
    curl_easy_reset(curl);
    std::string url = options.base_url + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, options.account_sid.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options.auth_token.c_str());
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "voxlog/1 (Studio v2 client)");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
    struct curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (std::string(method) == "POST") {
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(form_body.size()));
      curl_easy_setopt(curl, CURLOPT_COPYPOSTFIELDS, form_body.c_str());
    }
    r.curl = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    long request_bytes = 0;
    curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_bytes);
    r.sent = request_bytes > 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.http_status);
    r.curl_detail = error_text;
    return r;
  }

  void backoff(int attempt, long retry_after_seconds) {
    auto ceiling = options.backoff_base.count() << std::min(attempt - 1, 20);
    ceiling = std::min<long long>(ceiling, options.backoff_cap.count());
    std::uniform_int_distribution<long long> jitter(0, std::max<long long>(ceiling, 0));
    long long wait_ms = jitter(rng);
    if (retry_after_seconds > 0) {
      wait_ms = std::min<long long>(std::max<long long>(wait_ms, retry_after_seconds * 1000LL),
                                    options.backoff_cap.count());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  }

  // One Studio request with the retry policy of the header's contract.
  ApiResult<json> call(const char* method, const std::string& path, const std::string& form_body,
                       OnUnknown on_unknown, const Recovery& recover = {}) {
    const int attempts = std::max(1, options.max_attempts);
    for (int attempt = 1;; ++attempt) {
      HttpResponse r = perform(method, path, form_body);
      if (r.curl == CURLE_OK && r.http_status >= 200 && r.http_status < 300) {
        if (r.body.empty()) return json::object();
        auto body = parse_untrusted_json(r.body);
        if (!body) {
          return ApiError{
              internal_error("Twilio answered " + path + " with a body " + body.status().message()),
              static_cast<int>(r.http_status), 0};
        }
        return std::move(*body);
      }
      ApiError error =
          r.curl == CURLE_OK ? error_from_response(r) : error_from_transport(r, options.base_url);
      Failure failure = classify(r, error);
      if (failure == Failure::final) return error;
      const bool last = attempt >= attempts;
      if (failure == Failure::unknown && recover) {
        backoff(attempt, r.retry_after_seconds);  // lets a slow server finish before we look
        if (auto done = recover()) return *done;
        if (last) return with_prefix(error, "gave up after " + std::to_string(attempt) + " attempts: ");
        continue;
      }
      if (failure == Failure::unknown && on_unknown == OnUnknown::fail) {
        return with_prefix(error, "outcome unknown, not retried (check before trying again): ");
      }
      if (last) return with_prefix(error, "gave up after " + std::to_string(attempt) + " attempts: ");
      backoff(attempt, r.retry_after_seconds);
    }
  }

  std::string executions_path() { return "/v2/Flows/" + options.flow_sid + "/Executions"; }

  // Every execution of the flow for `to` matching `query`, following next_page_url (re-rooted on base_url).
  ApiResult<std::vector<Execution>> list_executions(const std::string& to, const std::string& query) {
    std::vector<Execution> found;
    std::string path = executions_path() + "?" + query + "&PageSize=50";
    for (int page = 0; page < kMaxPages && !path.empty(); ++page) {
      auto body = call("GET", path, "", OnUnknown::retry);
      if (!body) return body.error();
      const json& list = (*body)["executions"];
      if (!list.is_array()) {
        return ApiError{internal_error("Twilio's execution list has no 'executions' array"), 200, 0};
      }
      for (const auto& item : list) {
        if (string_field(item, "contact_channel_address") == to) found.push_back(execution_from(item));
      }
      std::string next = body->contains("meta") ? string_field((*body)["meta"], "next_page_url") : "";
      auto v2 = next.find("/v2/");
      path = v2 == std::string::npos ? "" : next.substr(v2);
    }
    return found;
  }
};

StudioClient::StudioClient(ClientOptions options) {
  init_http_client();
  impl_ = std::make_unique<Impl>(std::move(options));
}

StudioClient::~StudioClient() = default;

ApiResult<Execution> StudioClient::create_execution(const std::string& to, const std::string& from,
                                                    const nlohmann::json& parameters) {
  if (!is_sid(impl_->options.flow_sid))
    return bad_argument("no valid TWILIO_FLOW_SID to create executions on");
  if (to.empty() || from.empty()) return bad_argument("an execution needs both To and From");
  if (!parameters.is_object()) return bad_argument("execution Parameters must be a JSON object");
  const std::time_t started = std::time(nullptr);
  const std::time_t not_before = started - impl_->options.clock_skew_allowance.count();
  bool adopted = false;
  // After an unknown outcome: did the create happen? Any execution for `to` created since the attempt
  // began is ours (Studio allows one active REST execution per contact), ended or not.
  Impl::Recovery recover = [&]() -> std::optional<ApiResult<json>> {
    auto mine = impl_->list_executions(to, "DateCreatedFrom=" + impl_->escape(iso8601_s(not_before)));
    if (!mine) {
      return ApiResult<json>(
          ApiError{Status(StatusCode::deadline_exceeded,
                          "creating the execution for " + to +
                              " has an unknown outcome and checking failed: " + mine.status().message()),
                   mine.error().http_status, mine.error().twilio_code});
    }
    for (const auto& e : *mine) {
      auto created = parse_iso8601(e.date_created);
      if (!created || *created >= not_before) {
        adopted = true;
        return ApiResult<json>(e.raw);
      }
    }
    return std::nullopt;
  };
  auto body = impl_->call("POST", impl_->executions_path(),
                          impl_->form({{"To", to}, {"From", from}, {"Parameters", parameters.dump()}}),
                          Impl::OnUnknown::fail, recover);
  if (!body) return body.error();
  Execution e = execution_from(*body);
  e.adopted = adopted;
  return e;
}

ApiResult<Execution> StudioClient::fetch_execution(const std::string& sid) {
  if (!is_sid(sid)) return bad_argument("'" + sid + "' is not an execution SID");
  auto body = impl_->call("GET", impl_->executions_path() + "/" + sid, "", Impl::OnUnknown::retry);
  if (!body) return body.error();
  return execution_from(*body);
}

ApiResult<json> StudioClient::execution_context(const std::string& sid) {
  if (!is_sid(sid)) return bad_argument("'" + sid + "' is not an execution SID");
  auto body =
      impl_->call("GET", impl_->executions_path() + "/" + sid + "/Context", "", Impl::OnUnknown::retry);
  if (!body) return body.error();
  if (body->contains("context") && (*body)["context"].is_object()) return (*body)["context"];
  return json::object();
}

ApiResult<Execution> StudioClient::end_execution(const std::string& sid) {
  if (!is_sid(sid)) return bad_argument("'" + sid + "' is not an execution SID");
  auto body = impl_->call("POST", impl_->executions_path() + "/" + sid, impl_->form({{"Status", "ended"}}),
                          Impl::OnUnknown::retry);
  if (!body) return body.error();
  return execution_from(*body);
}

ApiResult<std::vector<Execution>> StudioClient::executions_since(const std::string& to, std::time_t since) {
  if (!is_sid(impl_->options.flow_sid)) return bad_argument("no valid TWILIO_FLOW_SID to list executions of");
  auto all = impl_->list_executions(to, "DateCreatedFrom=" + impl_->escape(iso8601_s(since)));
  if (!all) return all;
  std::vector<Execution> mine;
  for (auto& e : *all) {
    auto created = parse_iso8601(e.date_created);
    if (!created || *created >= since) mine.push_back(std::move(e));
  }
  return mine;
}

ApiResult<std::vector<Execution>> StudioClient::active_executions_for(const std::string& to) {
  if (!is_sid(impl_->options.flow_sid)) return bad_argument("no valid TWILIO_FLOW_SID to list executions of");
  auto all = impl_->list_executions(to, "Status=active");
  if (!all) return all;
  // A server that ignores the filter must not make an ended execution look active.
  std::vector<Execution> active;
  for (auto& e : *all) {
    if (e.status == "active") active.push_back(std::move(e));
  }
  return active;
}

namespace {

std::vector<std::pair<std::string, std::string>> flow_fields(const FlowRequest& request) {
  std::vector<std::pair<std::string, std::string>> fields{{"FriendlyName", request.friendly_name},
                                                          {"Status", request.status},
                                                          {"Definition", request.definition.dump()}};
  if (!request.commit_message.empty()) fields.emplace_back("CommitMessage", request.commit_message);
  return fields;
}

std::optional<ApiError> check_flow_request(const FlowRequest& request) {
  if (request.friendly_name.empty()) return bad_argument("a flow needs a friendly name");
  if (request.status != "draft" && request.status != "published") {
    return bad_argument("flow status must be 'draft' or 'published', not '" + request.status + "'");
  }
  if (!request.definition.is_object()) return bad_argument("a flow definition must be a JSON object");
  return std::nullopt;
}

}  // namespace

ApiResult<FlowInfo> StudioClient::validate_flow(const FlowRequest& request) {
  if (auto bad = check_flow_request(request)) return *bad;
  auto body =
      impl_->call("POST", "/v2/Flows/Validate", impl_->form(flow_fields(request)), Impl::OnUnknown::retry);
  if (!body) return body.error();
  FlowInfo info = flow_from(*body);
  if (!info.valid) {
    return ApiError{invalid_argument("Twilio says the flow is not valid: " + truncated(body->dump())), 200,
                    0};
  }
  return info;
}

ApiResult<FlowInfo> StudioClient::create_flow(const FlowRequest& request) {
  if (auto bad = check_flow_request(request)) return *bad;
  auto body = impl_->call("POST", "/v2/Flows", impl_->form(flow_fields(request)), Impl::OnUnknown::fail);
  if (!body) return body.error();
  return flow_from(*body);
}

ApiResult<FlowInfo> StudioClient::update_flow(const std::string& flow_sid, const FlowRequest& request) {
  if (!is_sid(flow_sid)) return bad_argument("'" + flow_sid + "' is not a flow SID");
  if (auto bad = check_flow_request(request)) return *bad;
  auto body =
      impl_->call("POST", "/v2/Flows/" + flow_sid, impl_->form(flow_fields(request)), Impl::OnUnknown::retry);
  if (!body) return body.error();
  return flow_from(*body);
}

}  // namespace voxlog
