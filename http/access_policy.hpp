// Access policy: who a request's credential names, which hosts and origins this server answers, and the
// per-client rate limit of the call-placing routes. The RESTinio glue that applies it is respond.hpp.
//
// Contract: pure functions over a Config, plus RateLimiter. A credential is a secret from a Bearer header
// (or, on WebSocket upgrades only, a `token` query parameter); it is compared with every configured token
// in constant time (SHA-256 digests compared with equal_secret, so neither which token matched nor its
// length shows in the timing). With no token configured, every request is the loopback caller "local" with
// every role: check_exposure() (config.hpp) keeps such a server on loopback.
//
// Thread-safety: the functions are pure; RateLimiter takes a mutex, so any thread may call take().
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/config/config.hpp"

namespace voxlog {

struct Caller {
  std::string name;  // the token's name; recorded as `by` on the events the request causes
  Role role = Role::viewer;
  bool may(Role needed) const { return static_cast<int>(role) >= static_cast<int>(needed); }
};

// The name an unauthenticated request goes by when the server has no tokens (loopback only).
inline constexpr const char* kLocalCaller = "local";

// The caller whose token is `secret`, or nullopt (no such token). With no tokens configured: "local".
std::optional<Caller> caller_for_secret(const Config& config, std::string_view secret);

// The caller named by an Authorization header ("Bearer <secret>") or, when given, a query token.
std::optional<Caller> caller_for(const Config& config, std::string_view authorization,
                                 std::string_view query_token = {});

// The host name of a Host header value: "Example.COM:3001" -> "example.com", "[::1]:80" -> "[::1]".
std::string host_name(std::string_view host_header);

// True when `host_header`'s name is one of config.allowed_hosts (PUBLIC_URL's host, the loopback names,
// ALLOWED_HOSTS). Refusing the rest stops DNS rebinding: a foreign name resolved to this server.
bool host_allowed(const Config& config, std::string_view host_header);

// True when a request with this Origin header may be served: no Origin (not a browser's cross-site
// request), the same origin as the Host it was sent to, PUBLIC_URL's, one of ALLOWED_ORIGINS, or
// ALLOWED_ORIGINS=* (check_exposure allows that only with tokens, which a foreign page cannot attach by
// itself).
bool origin_allowed(const Config& config, std::string_view origin, std::string_view host_header);

// A token bucket per client: `burst` requests at once, refilled at `per_minute`. take() spends one token
// and returns nullopt, or refuses and returns how many whole seconds until one is free (at least 1).
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(double per_minute, double burst);
  std::optional<int> take(const std::string& client, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void forget_full_buckets(Clock::time_point now);
  const double per_second_;
  const double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace voxlog
