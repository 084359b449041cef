#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "tools/config/config.hpp"

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
  CHECK(c->bind_address == "0.0.0.0");
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

TEST_CASE("NGROK_URL is an alias of PUBLIC_URL; trailing slashes are stripped", "[config]") {
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
  CHECK_THAT(line, Catch::Contains("auth_token=***"));
  CHECK_THAT(line, Catch::Contains("twilio=live"));
  CHECK_THAT(line, Catch::Contains("https://voice.example.com"));
  CHECK(line.find('\n') == std::string::npos);
}
