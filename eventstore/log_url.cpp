#include "eventstore/log_url.hpp"

#include <cctype>

namespace voxlog::log_url {

Result<Backend> backend_of(const std::string& url) {
  if (url.empty()) return Backend::lmdb;
  for (const char* scheme : {"postgresql://", "postgres://"}) {
    if (url.rfind(scheme, 0) == 0) return Backend::postgresql;
  }
  // Name the scheme only: the rest may hold a password.
  auto colon = url.find("://");
  std::string scheme = colon == std::string::npos ? std::string() : url.substr(0, colon);
  bool plain = !scheme.empty() && scheme.size() <= 32;
  for (char c : scheme)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-');
  if (!plain) {
    return invalid_argument("LOG_URL must be empty (the LMDB log in DATA_DIR) or a postgresql:// URL");
  }
  return invalid_argument("LOG_URL has the unknown scheme '" + scheme +
                          "': it must be empty (the LMDB log in DATA_DIR) or a postgresql:// URL");
}

std::string redact(const std::string& url) {
  std::string out = url;
  auto scheme_end = out.find("://");
  std::size_t authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  // user:password@ : the password runs from the first ':' to the last '@' of the authority (a password
  // may hold '@' when the writer forgot to percent-encode it; hide all of it then).
  std::size_t authority_end = out.find_first_of("/?", authority);
  if (authority_end == std::string::npos) authority_end = out.size();
  std::size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    std::size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // ?password=... or &password=... (case-insensitive key, as libpq's keywords are lower case anyway).
  std::size_t query = out.find('?');
  while (query != std::string::npos && query < out.size()) {
    std::size_t key = query + 1;
    std::size_t eq = out.find('=', key);
    std::size_t amp = out.find('&', key);
    if (eq != std::string::npos && (amp == std::string::npos || eq < amp)) {
      std::string name = out.substr(key, eq - key);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "password") {
        std::size_t end = amp == std::string::npos ? out.size() : amp;
        out.replace(eq + 1, end - eq - 1, "***");
        amp = out.find('&', eq);
      }
    }
    query = amp;
  }
  return out;
}

}  // namespace voxlog::log_url
