#include "http/twilio_signature.hpp"
#include "eventstore/text.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

namespace voxlog::twilio {
namespace {

std::string base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(written));
  return out;
}

// OpenSSL 3's one-shot HMAC() looks the algorithm up by name and builds a context on every call, which
// cost more than hashing the request itself. Each thread keeps one HMAC-SHA1 context keyed with the last
// token it used; re-initialising it without a key reuses that key.
class HmacSha1 {
 public:
  HmacSha1() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    ctx_ = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  }
  ~HmacSha1() {
    EVP_MAC_CTX_free(ctx_);
    OPENSSL_cleanse(key_.data(), key_.size());
  }
  HmacSha1(const HmacSha1&) = delete;
  HmacSha1& operator=(const HmacSha1&) = delete;

  // False if OpenSSL failed (the caller falls back to the one-shot function).
  bool sign(std::string_view key, std::string_view message, unsigned char* digest, size_t* size) {
    if (!ctx_) return false;
    const bool same_key = key_ready_ && key == key_;
    char digest_name[] = "SHA1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest_name, 0), OSSL_PARAM_END};
    int ok = same_key
                 ? EVP_MAC_init(ctx_, nullptr, 0, nullptr)
                 : EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params);
    key_ready_ = ok == 1;
    if (!key_ready_) return false;
    if (!same_key) {
      OPENSSL_cleanse(key_.data(), key_.size());
      key_.assign(key);
    }
    return EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(message.data()), message.size()) ==
               1 &&
           EVP_MAC_final(ctx_, digest, size, EVP_MAX_MD_SIZE) == 1;
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
  std::string key_;
  bool key_ready_ = false;
};

std::string hmac_sha1_base64(std::string_view key, std::string_view message) {
  thread_local HmacSha1 hmac;
  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t digest_size = 0;
  if (!hmac.sign(key, message, digest, &digest_size)) {
    unsigned int one_shot_size = 0;
    HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &one_shot_size);
    digest_size = one_shot_size;
  }
  return base64(digest, digest_size);
}

// The spellings of one URL that Twilio may have signed: as configured, with the scheme's default port
// added or removed, and without user:password (which Twilio drops for HTTPS voice callbacks).
std::vector<std::string> url_variants(std::string_view url) {
  url = url.substr(0, url.find('#'));
  std::vector<std::string> variants{std::string(url)};
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return variants;
  std::string scheme = lower_ascii(url.substr(0, scheme_end));
  const char* default_port = scheme == "https" ? "443" : scheme == "http" ? "80" : nullptr;

  size_t authority_begin = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?", authority_begin);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority = url.substr(authority_begin, authority_end - authority_begin);
  std::string_view prefix = url.substr(0, authority_begin);
  std::string_view rest = url.substr(authority_end);

  std::string_view userinfo;
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    userinfo = authority.substr(0, at + 1);
    authority = authority.substr(at + 1);
  }
  size_t bracket = authority.rfind(']');
  size_t colon = authority.rfind(':');
  bool has_port = colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  std::string_view host = has_port ? authority.substr(0, colon) : authority;
  std::string_view port = has_port ? authority.substr(colon + 1) : std::string_view{};

  std::vector<std::string> hostports;
  hostports.emplace_back(authority);
  if (default_port != nullptr && !has_port) hostports.push_back(std::string(host) + ":" + default_port);
  if (default_port != nullptr && has_port && port == default_port) hostports.emplace_back(host);

  variants.clear();
  for (const std::string& hostport : hostports) {
    variants.push_back(std::string(prefix) + std::string(userinfo) + hostport + std::string(rest));
    if (!userinfo.empty()) variants.push_back(std::string(prefix) + hostport + std::string(rest));
  }
  return variants;
}

// The parameters' part of the signed string: sorted byte-wise, duplicates dropped, name+value each.
std::string signed_params(const FormParams& form_params) {
  // Sorted by (name, value) and without exact repeats, as Twilio signs them; pointers, not copies.
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(form_params.size());
  std::size_t bytes = 0;
  for (const auto& param : form_params) {
    sorted.push_back(&param);
    bytes += param.first.size() + param.second.size();
  }
  auto less = [](const auto* a, const auto* b) { return *a < *b; };
  auto same = [](const auto* a, const auto* b) { return *a == *b; };
  std::sort(sorted.begin(), sorted.end(), less);
  sorted.erase(std::unique(sorted.begin(), sorted.end(), same), sorted.end());
  std::string text;
  text.reserve(bytes);
  for (const auto* param : sorted) {
    text += param->first;
    text += param->second;
  }
  return text;
}

std::string sign_with(std::string_view auth_token, std::string_view url, std::string_view params_text) {
  std::string message(url);
  message += params_text;
  return hmac_sha1_base64(auth_token, message);
}

// The parameters are sorted and joined once; only the URL differs between the variants. Stopping at
// the first match tells a caller only which spelling of the URL was signed, nothing about the token.
bool matches_any_variant(std::string_view auth_token, std::string_view signature, std::string_view url,
                         const FormParams& form_params) {
  std::string params_text = signed_params(form_params);
  for (const std::string& variant : url_variants(url)) {
    if (equal_secret(sign_with(auth_token, variant, params_text), signature)) return true;
  }
  return false;
}

// Finds query parameter `name` of `url` and sets `value` to its raw (still percent-encoded) text.
bool query_param(std::string_view url, std::string_view name, std::string_view& value) {
  url = url.substr(0, url.find('#'));
  size_t question = url.find('?');
  if (question == std::string_view::npos) return false;
  std::string_view query = url.substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return false;
}

}  // namespace

std::string sign(std::string_view auth_token, std::string_view url, const FormParams& form_params) {
  return sign_with(auth_token, url, signed_params(form_params));
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0f];
  }
  return out;
}

std::string url_with_body_hash(std::string_view url, std::string_view raw_body) {
  std::string_view fragment;
  size_t hash = url.find('#');
  if (hash != std::string_view::npos) {
    fragment = url.substr(hash);
    url = url.substr(0, hash);
  }
  std::string out(url);
  size_t question = url.find('?');
  if (question == std::string_view::npos) {
    out += '?';
  } else if (question + 1 != url.size() && url.back() != '&') {
    out += '&';  // a '?' at the end of a query is part of its last value, not a separator
  }
  out += "bodySHA256=";
  out += sha256_hex(raw_body);
  out += fragment;
  return out;
}

bool verify_form(std::string_view auth_token, std::string_view signature, std::string_view full_url,
                 const FormParams& form_params) {
  if (signature.empty()) return false;
  return matches_any_variant(auth_token, signature, full_url, form_params);
}

bool verify_json(std::string_view auth_token, std::string_view signature, std::string_view full_url,
                 std::string_view raw_body) {
  if (signature.empty()) return false;
  std::string_view claimed_hash;
  if (!query_param(full_url, "bodySHA256", claimed_hash)) return false;
  bool body_matches = equal_secret(lower_ascii(claimed_hash), sha256_hex(raw_body));
  bool url_matches = matches_any_variant(auth_token, signature, full_url, {});
  return body_matches && url_matches;
}

}  // namespace voxlog::twilio
