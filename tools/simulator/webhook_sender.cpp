#include "tools/simulator/webhook_sender.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>

namespace voxlog::sim {
namespace {

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

CURL* thread_curl() {
  thread_local std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
  curl_easy_reset(handle.get());
  return handle.get();
}

size_t append_to_string(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

std::string percent_encode(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

int abort_if_cancelled(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(cancelled)->load() ? 1 : 0;
}

bool is_json(const std::string& content_type) {
  return content_type.find("json") != std::string::npos;
}

}  // namespace

std::string form_encode(const twilio::FormParams& form) {
  std::string out;
  for (const auto& [key, value] : form) {
    if (!out.empty()) out += '&';
    out += percent_encode(key) + "=" + percent_encode(value);
  }
  return out;
}

WebhookResult send_webhook(const WebhookRequest& request, const std::string& auth_token,
                           const std::atomic<bool>* cancelled) {
  WebhookResult result;
  const bool json_body = is_json(request.content_type);
  const bool is_get = request.method == "GET";
  std::string url = request.url;
  std::string body;
  std::string signature;
  if (is_get) {
    if (!request.form.empty())
      url += (url.find('?') == std::string::npos ? "?" : "&") + form_encode(request.form);
    signature = twilio::sign(auth_token, url, {});
  } else if (json_body) {
    body = request.json_body;
    url = twilio::url_with_body_hash(url, body);
    signature = twilio::sign(auth_token, url, {});
  } else {
    body = form_encode(request.form);
    signature = twilio::sign(auth_token, url, request.form);
  }
  result.signed_url = url;

  CURL* curl = thread_curl();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("X-Twilio-Signature: " + signature).c_str());
  if (!is_get) headers = curl_slist_append(headers, ("Content-Type: " + request.content_type).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "TwilioProxy/1.1");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  if (cancelled != nullptr) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_if_cancelled);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancelled));
  }
  if (!is_get) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    result.status_code = static_cast<int>(status);
    char* content_type = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &content_type);
    if (content_type != nullptr) result.content_type = content_type;
  } else {
    result.error = curl_easy_strerror(code);
  }
  curl_slist_free_all(headers);
  return result;
}

}  // namespace voxlog::sim
