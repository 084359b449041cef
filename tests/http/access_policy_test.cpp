// The access policy without a server: which caller a credential names, which hosts and origins pass,
// and the rate limiter's buckets.
#include "http/access_policy.hpp"

#include <catch2/catch.hpp>

using namespace voxlog;

namespace {

Config with_tokens() {
  Config c;
  c.tokens = {{"wallboard", Role::viewer, "view-secret-0123456789"},
              {"desk", Role::operator_, "desk-secret-0123456789"},
              {"boss", Role::admin, "boss-secret-0123456789"},
              {"metrics", Role::metrics, "scrape-secret-0123456789"}};
  c.allowed_hosts = {"localhost", "127.0.0.1", "[::1]", "voice.example.com"};
  c.allowed_origins = {"http://localhost:3000"};
  return c;
}

}  // namespace

TEST_CASE("a credential names its token's caller, a wrong one, a prefix or a bare secret names nobody") {
  Config c = with_tokens();
  auto desk = caller_for(c, "Bearer desk-secret-0123456789");
  REQUIRE(desk);
  CHECK(desk->name == "desk");
  CHECK(desk->may(Role::viewer));
  CHECK(desk->may(Role::operator_));
  CHECK_FALSE(desk->may(Role::admin));
  CHECK(caller_for(c, "bearer   boss-secret-0123456789 ")->name == "boss");
  CHECK_FALSE(caller_for(c, "Bearer desk-secret-012345678"));  // one character short
  CHECK_FALSE(caller_for(c, "Bearer desk-secret-01234567890"));
  CHECK_FALSE(caller_for(c, "desk-secret-0123456789"));  // no scheme
  CHECK_FALSE(caller_for(c, "Basic ZGVzazpzZWNyZXQ="));
  CHECK_FALSE(caller_for(c, ""));
  CHECK(caller_for(c, "", "view-secret-0123456789")->name == "wallboard");  // the query, where allowed
  auto scraper = caller_for_secret(c, "scrape-secret-0123456789");
  REQUIRE(scraper);
  CHECK(scraper->may(Role::metrics));
  CHECK_FALSE(scraper->may(Role::viewer));
}

TEST_CASE("with no token configured every request is the local caller with every role") {
  Config c;
  auto local = caller_for(c, "");
  REQUIRE(local);
  CHECK(local->name == kLocalCaller);
  CHECK(local->may(Role::admin));
}

TEST_CASE("hosts: only this server's names pass (DNS rebinding names another)") {
  Config c = with_tokens();
  CHECK(host_allowed(c, "localhost:3001"));
  CHECK(host_allowed(c, "LOCALHOST."));
  CHECK(host_allowed(c, "127.0.0.1:80"));
  CHECK(host_allowed(c, "[::1]:3001"));
  CHECK(host_allowed(c, "Voice.Example.com"));
  CHECK_FALSE(host_allowed(c, "evil.example.net:3001"));
  CHECK_FALSE(host_allowed(c, "voice.example.com.evil.net"));
  CHECK_FALSE(host_allowed(c, ""));
  CHECK(host_name("Example.COM:3001") == "example.com");
  CHECK(host_name("[::1]:80") == "[::1]");
}

TEST_CASE("origins: none, the same origin, or an allowed one, * only as configured") {
  Config c = with_tokens();
  CHECK(origin_allowed(c, "", "127.0.0.1:3001"));
  CHECK(origin_allowed(c, "http://127.0.0.1:3001", "127.0.0.1:3001"));  // the dashboard voxlogd serves
  CHECK(origin_allowed(c, "http://localhost:3000", "127.0.0.1:3001"));  // the Node app's dashboard
  CHECK_FALSE(origin_allowed(c, "http://localhost:3000.evil.net", "127.0.0.1:3001"));
  CHECK_FALSE(origin_allowed(c, "https://evil.example.net", "127.0.0.1:3001"));
  CHECK_FALSE(origin_allowed(c, "null", "127.0.0.1:3001"));
  CHECK_FALSE(
      origin_allowed(c, "http://127.0.0.1:3002", "127.0.0.1:3001"));  // another port is another origin
  c.public_url = "https://Voice.Example.com/base";  // behind a proxy that sends another Host
  CHECK(origin_allowed(c, "https://voice.example.com", "127.0.0.1:3001"));
  CHECK_FALSE(origin_allowed(c, "http://voice.example.com", "127.0.0.1:3001"));
  c.allowed_origins.push_back("*");
  CHECK(origin_allowed(c, "https://evil.example.net", "127.0.0.1:3001"));
}

TEST_CASE("rate limiter: a burst at once, then one per refill interval, per client") {
  RateLimiter limiter(60, 3);  // one a second, three at once
  auto t0 = RateLimiter::Clock::now();
  CHECK_FALSE(limiter.take("a", t0));
  CHECK_FALSE(limiter.take("a", t0));
  CHECK_FALSE(limiter.take("a", t0));
  auto wait = limiter.take("a", t0);
  REQUIRE(wait);
  CHECK(*wait == 1);
  CHECK_FALSE(limiter.take("b", t0));  // another client has its own bucket
  CHECK_FALSE(limiter.take("a", t0 + std::chrono::milliseconds(1001)));
  CHECK(limiter.take("a", t0 + std::chrono::milliseconds(1002)));
  RateLimiter slow(6, 1);  // one every ten seconds
  CHECK_FALSE(slow.take("c", t0));
  CHECK(*slow.take("c", t0 + std::chrono::seconds(1)) == 9);
}
