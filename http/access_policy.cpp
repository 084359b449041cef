#include "http/access_policy.hpp"
#include "eventstore/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <openssl/sha.h>

namespace voxlog {
namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

Digest digest_of(std::string_view s) {
  Digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "http://Host:3001/x" -> "host:3001": the authority of an origin, lower case.
std::string authority_of(std::string_view origin) {
  auto start = origin.find("://");
  if (start == std::string_view::npos) return {};
  std::string_view rest = origin.substr(start + 3);
  return lower_ascii(rest.substr(0, rest.find('/')));
}

}  // namespace

std::optional<Caller> caller_for_secret(const Config& config, std::string_view secret) {
  if (!config.tokens_required()) return Caller{kLocalCaller, Role::admin};
  if (secret.empty()) return std::nullopt;
  Digest given = digest_of(secret);
  const AccessToken* match = nullptr;
  for (const auto& token : config.tokens) {  // every token is compared: the time says nothing of which
    Digest expected = digest_of(token.secret);
    if (equal_secret({reinterpret_cast<const char*>(given.data()), given.size()},
                     {reinterpret_cast<const char*>(expected.data()), expected.size()}))
      match = &token;
  }
  if (!match) return std::nullopt;
  return Caller{match->name, match->role};
}

std::optional<Caller> caller_for(const Config& config, std::string_view authorization,
                                 std::string_view query_token) {
  if (!config.tokens_required()) return Caller{kLocalCaller, Role::admin};
  authorization = trimmed(authorization);
  constexpr std::string_view bearer = "bearer ";
  if (authorization.size() > bearer.size() && lower_ascii(authorization.substr(0, bearer.size())) == bearer)
    return caller_for_secret(config, trimmed(authorization.substr(bearer.size())));
  if (!query_token.empty()) return caller_for_secret(config, query_token);
  return std::nullopt;
}

std::string host_name(std::string_view host_header) {
  host_header = trimmed(host_header);
  if (!host_header.empty() && host_header.front() == '[') {
    auto close = host_header.find(']');
    return lower_ascii(
        host_header.substr(0, close == std::string_view::npos ? host_header.size() : close + 1));
  }
  std::string host = lower_ascii(host_header.substr(0, host_header.find(':')));
  if (!host.empty() && host.back() == '.') host.pop_back();  // "localhost." names the same host
  return host;
}

bool host_allowed(const Config& config, std::string_view host_header) {
  std::string host = host_name(host_header);
  if (host.empty()) return false;
  return std::find(config.allowed_hosts.begin(), config.allowed_hosts.end(), host) !=
         config.allowed_hosts.end();
}

bool origin_allowed(const Config& config, std::string_view origin, std::string_view host_header) {
  origin = trimmed(origin);
  if (origin.empty()) return true;
  std::string wanted = lower_ascii(origin);
  while (!wanted.empty() && wanted.back() == '/') wanted.pop_back();
  for (const auto& allowed : config.allowed_origins) {
    if (allowed == "*" || lower_ascii(allowed) == wanted) return true;
  }
  // The dashboard served behind a proxy at PUBLIC_URL: its pages' origin, whatever Host the proxy sends.
  if (!config.public_url.empty()) {
    std::string public_origin = lower_ascii(config.public_url);
    auto scheme_end = public_origin.find("://");
    auto path = scheme_end == std::string::npos ? std::string::npos : public_origin.find('/', scheme_end + 3);
    if (public_origin.substr(0, path) == wanted) return true;
  }
  // Same origin: the page was served by this server under the name it is now asking.
  std::string authority = authority_of(wanted);
  return !authority.empty() && authority == lower_ascii(trimmed(host_header));
}

RateLimiter::RateLimiter(double per_minute, double burst)
    : per_second_(per_minute / 60.0), burst_(std::max(1.0, burst)) {}

std::optional<int> RateLimiter::take(const std::string& client, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (buckets_.size() > 10000) forget_full_buckets(now);
  auto [it, inserted] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * per_second_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  double wait = (1.0 - b.tokens) / per_second_;
  return std::max(1, static_cast<int>(wait + 0.999));
}

// A full bucket is the same as no bucket: dropping them bounds the map by the clients active lately.
void RateLimiter::forget_full_buckets(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + elapsed * per_second_ >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace voxlog
