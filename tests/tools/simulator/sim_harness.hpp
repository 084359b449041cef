// The simulator tests' shared harness: a Simulator running flow.json, a WebhookReceiver standing in for
// voxlogd, and plain libcurl requests to the Studio API and the admin routes.
//
// Contract: for Catch2 test files only (it uses REQUIRE / FAIL). A Harness starts its simulator with seed
// 42 and stops it when destroyed. request() is blocking and thread-safe (one curl handle per call).
#pragma once

#include "http/twilio_signature.hpp"
#include "tests/tools/simulator/webhook_receiver.hpp"
#include "tools/simulator/simulator.hpp"

#include <curl/curl.h>
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace voxlog::sim::testing {

using nlohmann::json;
using voxlog::twilio::FormParams;

inline const char kToken[] = "sim-test-token-0123456789";
inline const char kAccount[] = "AC0123456789abcdef0123456789abcdef";
inline const char kFrom[] = "+441234567890";

struct HttpAnswer {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string text;
  json body;
};

inline size_t collect(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

inline std::string form_body(CURL* curl, const FormParams& form) {
  std::string out;
  for (const auto& [key, value] : form) {
    char* k = curl_easy_escape(curl, key.c_str(), static_cast<int>(key.size()));
    char* v = curl_easy_escape(curl, value.c_str(), static_cast<int>(value.size()));
    out += (out.empty() ? "" : "&") + std::string(k) + "=" + v;
    curl_free(k);
    curl_free(v);
  }
  return out;
}

// One request; `form` is sent form-encoded, `json_body` as JSON; `user` empty sends no credentials.
inline HttpAnswer request(const std::string& method, const std::string& url, const FormParams& form = {},
                          const std::string& user = kAccount, const std::string& password = kToken,
                          const std::string& json_body = "", long timeout_ms = 10000) {
  HttpAnswer answer;
  CURL* curl = curl_easy_init();
  std::string body = json_body.empty() ? form_body(curl, form) : json_body;
  curl_slist* headers = nullptr;
  if (!json_body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.text);
  if (!user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
  }
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  answer.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  answer.body = json::parse(answer.text, nullptr, false);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

inline json flow_json() {
  auto definition = voxlog::sim::load_flow_definition(VOXLOG_SOURCE_DIR "/flow.json");
  REQUIRE(definition.is_ok());
  return *definition;
}

struct Harness {
  WebhookReceiver receiver{kToken};
  std::unique_ptr<Simulator> simulator;

  explicit Harness(double time_scale = 0.002, int max_creates_per_second = 20, const OutcomeMix& mix = {}) {
    SimulatorOptions options;
    options.mix = mix;
    options.account_sid = kAccount;
    options.auth_token = kToken;
    options.flow_definition = flow_json();
    options.time_scale = time_scale;
    options.seed = 42;
    options.max_creates_per_second = max_creates_per_second;
    auto started = Simulator::start(options);
    REQUIRE(started.is_ok());
    simulator = std::move(started.value());
  }

  std::string executions_url() const {
    return simulator->base_url() + "/v2/Flows/" + simulator->flow_sid() + "/Executions";
  }

  // Parameters are `extra` plus public_url, the receiver.
  HttpAnswer create(const std::string& to, const std::string& from = kFrom,
                    const json& extra = json::object()) {
    json parameters = extra;
    parameters["public_url"] = receiver.base_url();
    return request("POST", executions_url(), {{"To", to}, {"From", from}, {"Parameters", parameters.dump()}});
  }

  void script(const json& outcome) {
    HttpAnswer answer = request("POST", simulator->base_url() + "/__sim/script", {}, "", "", outcome.dump());
    REQUIRE(answer.status == 200);
  }

  json stats() { return request("GET", simulator->base_url() + "/__sim/stats").body; }

  void wait_until_ended(const std::string& sid) {
    for (int i = 0; i < 2000; ++i) {  // a hang guard, not a speed check
      if (request("GET", executions_url() + "/" + sid).body.value("status", "") == "ended") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("execution " << sid << " never ended");
  }

  std::vector<ReceivedWebhook> webhooks_of(const std::string& sid) const {
    std::vector<ReceivedWebhook> mine;
    for (const ReceivedWebhook& webhook : receiver.received()) {
      json body = json::parse(webhook.body, nullptr, false);
      if (body.is_object() && body.value("execution_sid", "") == sid) mine.push_back(webhook);
    }
    return mine;
  }
};

// "event", or "event:digits" for dtmf, or "event:action" for dtmf_action.
inline std::string describe(const json& body) {
  std::string event = body.value("event", "?");
  if (event == "dtmf") return event + ":" + body.value("digits", "");
  if (event == "dtmf_action") return event + ":" + body.value("action", "");
  return event;
}

}  // namespace voxlog::sim::testing
