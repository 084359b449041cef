#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "http/config/config.hpp"

using voxlog::Config;
using voxlog::config_from;
using voxlog::StatusCode;

namespace {

// A .env file in a fresh temp directory, removed at scope end.
struct EnvFile {
  std::string path;
  explicit EnvFile(const std::string& text) {
    char dir_template[] = "/tmp/voxlog-config-XXXXXX";
    path = std::string(mkdtemp(dir_template)) + "/.env";
    std::ofstream(path) << text;
  }
  ~EnvFile() {
    std::remove(path.c_str());
    ::rmdir(path.substr(0, path.rfind('/')).c_str());
  }
};

const std::string kNoFile = "/nonexistent/voxlog/.env";

}  // namespace

TEST_CASE("defaults when nothing is set", "[config]") {
  auto c = config_from({}, kNoFile);
  REQUIRE(c.is_ok());
  CHECK(c->port == 3001);
  CHECK(c->bind_address == "127.0.0.1");  // no token: this machine only
  CHECK(c->tokens.empty());
  CHECK(c->verify_webhooks);
  CHECK_FALSE(c->trust_proxy);
  CHECK(c->data_dir == "./data");
  CHECK(c->twilio_api_base == "https://studio.twilio.com");
  CHECK(c->twilio_cps == 1.0);
  CHECK(c->default_region == "GB");
  CHECK(c->max_body_bytes == 64 * 1024);
  CHECK(c->allowed_origins == std::vector<std::string>{"http://localhost:3000"});
  CHECK(c->simulate());
}

TEST_CASE(".env syntax: comments, quotes, export, inline comments", "[config]") {
  EnvFile file(
      "# a comment\n"
      "\n"
      "export PORT=4100\n"
      "DATA_DIR=\"/var/lib/voxlog data\"   # quoted, with a trailing comment\n"
      "TWILIO_ACCOUNT_SID='AC0123456789abcdef0123456789abcdef'\n"
      "TWILIO_AUTH_TOKEN=s3cr3t#not-a-comment\n"
      "TWILIO_PHONE_NUMBER=+441234567890 # bare value, trailing comment\n"
      "TWILIO_CPS=2.5\n"
      "DEFAULT_REGION=tr\n"
      "UNRELATED_TOOL_SETTING=ignored\n");
  auto c = config_from({}, file.path);
  REQUIRE(c.is_ok());
  CHECK(c->port == 4100);
  CHECK(c->data_dir == "/var/lib/voxlog data");
  CHECK(c->twilio_account_sid == "AC0123456789abcdef0123456789abcdef");
  CHECK(c->twilio_auth_token == "s3cr3t#not-a-comment");
  CHECK(c->twilio_phone_number == "+441234567890");
  CHECK(c->twilio_cps == 2.5);
  CHECK(c->default_region == "TR");
  CHECK_FALSE(c->simulate());
}

TEST_CASE("process environment beats .env", "[config]") {
  EnvFile file("PORT=4100\nDATA_DIR=/from/file\nTWILIO_AUTH_TOKEN=file-token\n");
  auto c = config_from({{"PORT", "4200"}, {"TWILIO_AUTH_TOKEN", ""}}, file.path);
  REQUIRE(c.is_ok());
  CHECK(c->port == 4200);
  CHECK(c->data_dir == "/from/file");
  // Set-but-empty in the environment still wins: that is how an operator forces the simulator.
  CHECK(c->twilio_auth_token.empty());
}

TEST_CASE("load_config reads the real process environment", "[config]") {
  EnvFile file("PORT=4100\nDATA_DIR=/from/file\n");
  ::setenv("PORT", "4300", 1);
  auto c = voxlog::load_config(file.path);
  ::unsetenv("PORT");
  REQUIRE(c.is_ok());
  CHECK(c->port == 4300);
  CHECK(c->data_dir == "/from/file");
}

TEST_CASE("NGROK_URL is an alias of PUBLIC_URL, trailing slashes are stripped", "[config]") {
  auto from_ngrok = config_from({{"NGROK_URL", "https://abc.ngrok.io/"}}, kNoFile);
  REQUIRE(from_ngrok.is_ok());
  CHECK(from_ngrok->public_url == "https://abc.ngrok.io");
  CHECK(from_ngrok->allowed_origins ==
        std::vector<std::string>{"http://localhost:3000", "https://abc.ngrok.io"});

  auto both = config_from(
      {{"NGROK_URL", "https://old.ngrok.io"}, {"PUBLIC_URL", "https://voice.example.com//"}}, kNoFile);
  REQUIRE(both.is_ok());
  CHECK(both->public_url == "https://voice.example.com");

  auto base = config_from({{"TWILIO_API_BASE", "http://127.0.0.1:43001/"}}, kNoFile);
  REQUIRE(base.is_ok());
  CHECK(base->twilio_api_base == "http://127.0.0.1:43001");
}

TEST_CASE("ALLOWED_ORIGINS is a trimmed comma list", "[config]") {
  auto c = config_from({{"ALLOWED_ORIGINS", " https://a.example , http://b.example:8080/ ,,"}}, kNoFile);
  REQUIRE(c.is_ok());
  CHECK(c->allowed_origins == std::vector<std::string>{"https://a.example", "http://b.example:8080"});
}

TEST_CASE("invalid values are rejected with the variable's name", "[config]") {
  struct Case {
    std::string name, value;
  };
  for (const auto& bad : {Case{"PORT", "abc"}, Case{"PORT", "70000"}, Case{"PORT", "-1"}, Case{"PORT", "80x"},
                          Case{"TWILIO_CPS", "0"}, Case{"TWILIO_CPS", "fast"}, Case{"MAX_BODY_BYTES", "0"},
                          Case{"SIM_TIME_SCALE", "-2"}, Case{"DEFAULT_REGION", "GBR"},
                          Case{"PUBLIC_URL", "ftp://x"}, Case{"TWILIO_API_BASE", "studio.twilio.com"},
                          Case{"TWILIO_ACCOUNT_SID", "XX123"}, Case{"TWILIO_FLOW_SID", "FN123"}}) {
    INFO(bad.name << "=" << bad.value);
    auto c = config_from({{bad.name, bad.value}}, kNoFile);
    REQUIRE_FALSE(c.is_ok());
    CHECK(c.status().code() == StatusCode::invalid_argument);
    CHECK_THAT(c.status().message(), Catch::Contains(bad.name));
  }
  CHECK(config_from({{"PORT", "0"}}, kNoFile)->port == 0);
}

TEST_CASE("malformed .env lines are errors that do not echo the line", "[config]") {
  EnvFile no_equals("PORT=1\nTWILIO_AUTH_TOKEN supersecretvalue\n");
  auto c = config_from({}, no_equals.path);
  REQUIRE_FALSE(c.is_ok());
  CHECK(c.status().code() == StatusCode::invalid_argument);
  CHECK_THAT(c.status().message(), Catch::Contains(":2:"));
  CHECK_THAT(c.status().message(), !Catch::Contains("supersecretvalue"));

  EnvFile open_quote("TWILIO_AUTH_TOKEN=\"supersecretvalue\n");
  auto q = config_from({}, open_quote.path);
  REQUIRE_FALSE(q.is_ok());
  CHECK_THAT(q.status().message(), Catch::Contains("TWILIO_AUTH_TOKEN"));
  CHECK_THAT(q.status().message(), !Catch::Contains("supersecretvalue"));
}

TEST_CASE("describe() never contains a secret", "[config]") {
  auto c = config_from({{"TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"},
                        {"TWILIO_AUTH_TOKEN", "tok_9f8e7d6c5b4a"},
                        {"API_TOKEN", "api_0a1b2c3d4e5f"},
                        {"PUBLIC_URL", "https://voice.example.com"}},
                       kNoFile);
  REQUIRE(c.is_ok());
  std::string line = voxlog::describe(*c);
  CHECK_THAT(line, !Catch::Contains("tok_9f8e7d6c5b4a"));
  CHECK_THAT(line, !Catch::Contains("api_0a1b2c3d4e5f"));
  CHECK_THAT(line, !Catch::Contains("0123456789abcdef0123456789"));
  CHECK_THAT(line, Catch::Contains("auth_token=set"));
  CHECK_THAT(line, Catch::Contains("tokens=api:admin"));
  CHECK_THAT(line, !Catch::Contains("chars"));  // not even a secret's length
  CHECK_THAT(line, Catch::Contains("twilio=live"));
  CHECK_THAT(line, Catch::Contains("https://voice.example.com"));
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("tokens: API_TOKEN, API_TOKENS and API_TOKENS_FILE, with roles, errors never show a secret",
          "[config]") {
  EnvFile tokens_file(
      "# name:role:secret\n"
      "ops-desk:operator:file-secret-0123456789\n"
      "\n"
      "auditor:admin:file-secret-abcdefghij\n");
  auto c = config_from(
      {{"API_TOKEN", "the-old-single-token"},
       {"API_TOKENS", "wallboard:viewer:view-secret-0123456789, ,clinic:operator:op-secret-0123456789"},
       {"API_TOKENS_FILE", tokens_file.path},
       {"METRICS_TOKEN", "scrape-secret-0123456789"}},
      kNoFile);
  REQUIRE(c.is_ok());
  REQUIRE(c->tokens.size() == 6);
  CHECK(c->tokens[0].name == "api");
  CHECK(c->tokens[0].role == voxlog::Role::admin);
  CHECK(c->tokens[1].name == "wallboard");
  CHECK(c->tokens[1].role == voxlog::Role::viewer);
  CHECK(c->tokens[2].role == voxlog::Role::operator_);
  CHECK(c->tokens[3].name == "ops-desk");
  CHECK(c->tokens[4].role == voxlog::Role::admin);
  CHECK(c->tokens[5].name == "metrics");
  CHECK(c->tokens[5].role == voxlog::Role::metrics);
  CHECK(c->bind_address == "0.0.0.0");  // with tokens the default serves other machines

  struct Bad {
    std::map<std::string, std::string> env;
    std::string says;
  };
  std::vector<Bad> bad = {
      {{{"API_TOKEN", "short-secret"}}, "shorter than 16"},
      {{{"API_TOKENS", "x:viewer"}}, "name:role:secret"},
      {{{"API_TOKENS", "x:root:root-secret-0123456789"}}, "the roles are viewer, operator and admin"},
      {{{"API_TOKENS", "bad name:viewer:view-secret-0123456789"}}, "token name"},
      {{{"API_TOKENS", "a:viewer:same-secret-0123456789,b:admin:same-secret-0123456789"}}, "same secret"},
      {{{"API_TOKENS", "a:viewer:view-secret-0123456789,a:admin:admin-secret-0123456789"}}, "named 'a'"},
      {{{"API_TOKENS_FILE", "/nonexistent/tokens"}}, "cannot be read"},
  };
  for (const auto& b : bad) {
    auto r = config_from(b.env, kNoFile);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::invalid_argument);
    CHECK_THAT(r.status().message(), Catch::Contains(b.says));
    for (const auto& [name, value] : b.env) {
      auto last = value.rfind(':');
      std::string secret = last == std::string::npos ? value : value.substr(last + 1);
      if (name != "API_TOKENS_FILE") CHECK_THAT(r.status().message(), !Catch::Contains(secret));
    }
  }
}

TEST_CASE("exposure: no public bind without a token, no unverified webhooks off loopback", "[config]") {
  auto local = config_from({}, kNoFile);
  REQUIRE(local.is_ok());
  CHECK(voxlog::check_exposure(*local).is_ok());

  auto open_to_all = config_from({{"BIND_ADDRESS", "0.0.0.0"}}, kNoFile);
  REQUIRE(open_to_all.is_ok());
  auto refused = voxlog::check_exposure(*open_to_all);
  CHECK(refused.code() == StatusCode::failed_precondition);
  CHECK_THAT(refused.message(), Catch::Contains("API_TOKEN"));

  auto guarded = config_from({{"BIND_ADDRESS", "0.0.0.0"}, {"API_TOKEN", "the-old-single-token"}}, kNoFile);
  REQUIRE(guarded.is_ok());
  CHECK(voxlog::check_exposure(*guarded).is_ok());

  auto unverified_public = config_from(
      {{"BIND_ADDRESS", "0.0.0.0"}, {"API_TOKEN", "the-old-single-token"}, {"VERIFY_WEBHOOKS", "off"}},
      kNoFile);
  REQUIRE(unverified_public.is_ok());
  CHECK_THAT(voxlog::check_exposure(*unverified_public).message(), Catch::Contains("VERIFY_WEBHOOKS"));
  auto unverified_local = config_from({{"VERIFY_WEBHOOKS", "off"}}, kNoFile);
  REQUIRE(unverified_local.is_ok());
  CHECK_FALSE(unverified_local->verify_webhooks);
  CHECK(voxlog::check_exposure(*unverified_local).is_ok());

  auto star = config_from({{"ALLOWED_ORIGINS", "*"}}, kNoFile);
  REQUIRE(star.is_ok());
  CHECK_THAT(voxlog::check_exposure(*star).message(), Catch::Contains("ALLOWED_ORIGINS"));

  CHECK(voxlog::is_loopback_address("127.0.0.1"));
  CHECK(voxlog::is_loopback_address("127.8.9.10"));
  CHECK(voxlog::is_loopback_address("::1"));
  CHECK(voxlog::is_loopback_address("localhost"));
  CHECK_FALSE(voxlog::is_loopback_address("0.0.0.0"));
  CHECK_FALSE(voxlog::is_loopback_address("10.0.0.1"));
  CHECK_FALSE(voxlog::is_loopback_address("::"));
}

TEST_CASE("limits and switches are validated", "[config]") {
  auto c = config_from({{"MAX_API_BODY_BYTES", "2048"},
                        {"MAX_HEADER_BYTES", "4096"},
                        {"MAX_CONNECTIONS", "16"},
                        {"HEADER_TIMEOUT_MS", "500"},
                        {"RATE_LIMIT_PER_MIN", "6"},
                        {"RATE_LIMIT_BURST", "2"},
                        {"TRUST_PROXY", "on"},
                        {"ALLOWED_HOSTS", "Voice.Example.org, clinic.local"},
                        {"PUBLIC_URL", "https://Hooks.Example.com:8443/base"}},
                       kNoFile);
  REQUIRE(c.is_ok());
  CHECK(c->max_api_body_bytes == 2048);
  CHECK(c->max_header_bytes == 4096);
  CHECK(c->max_connections == 16);
  CHECK(c->header_timeout_ms == 500);
  CHECK(c->rate_limit_per_min == 6);
  CHECK(c->rate_limit_burst == 2);
  CHECK(c->trust_proxy);
  CHECK(c->allowed_hosts == std::vector<std::string>{"localhost", "127.0.0.1", "[::1]", "hooks.example.com",
                                                     "voice.example.org", "clinic.local"});
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{{"MAX_HEADER_BYTES", "10"},
                                                                             {"MAX_CONNECTIONS", "0"},
                                                                             {"HEADER_TIMEOUT_MS", "soon"},
                                                                             {"RATE_LIMIT_BURST", "0.5"},
                                                                             {"VERIFY_WEBHOOKS", "maybe"},
                                                                             {"TRUST_PROXY", "2"},
                                                                             {"LOG_MAP_BYTES", "1000"}}) {
    auto r = config_from({{name, value}}, kNoFile);
    REQUIRE_FALSE(r.is_ok());
    CHECK_THAT(r.status().message(), Catch::Contains(name));
  }
}

TEST_CASE("LOG_URL: empty is the LMDB log, postgresql:// the PostgreSQL one, anything else an error",
          "[config]") {
  auto lmdb = config_from({}, kNoFile);
  REQUIRE(lmdb.is_ok());
  CHECK(lmdb->log_url.empty());
  auto pg = config_from({{"LOG_URL", "postgresql://app:pw-secret@db1,db2/voxlog"}}, kNoFile);
  REQUIRE(pg.is_ok());
  CHECK(pg->log_url == "postgresql://app:pw-secret@db1,db2/voxlog");
  std::string line = voxlog::describe(*pg);
  CHECK_THAT(line, Catch::Contains("log=postgresql://app:***@db1,db2/voxlog"));
  CHECK_THAT(line, !Catch::Contains("pw-secret"));
  auto bad = config_from({{"LOG_URL", "redis://:pw-secret@cache"}}, kNoFile);
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().code() == StatusCode::invalid_argument);
  CHECK_THAT(bad.status().message(), Catch::Contains("LOG_URL") && Catch::Contains("'redis'"));
  CHECK_THAT(bad.status().message(), !Catch::Contains("pw-secret"));
}
