#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/twilio/twilio_client.hpp"
#include "tests/actors/twilio/fake_studio.hpp"
#include "tools/voxlog/flow_actions.hpp"

using nlohmann::json;
using voxlog::testing::FakeStudio;

namespace {

const std::string kRepoFlow = std::string(VOXLOG_SOURCE_DIR) + "/flow.json";
const std::string kToken = "tok_cli_secret_value";

struct Run {
  int code;
  std::string out, err;
};

// Runs `voxlog flow <args>` in-process: "check FILE" or "deploy FILE [NAME]".
Run flow(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code;
  if (args.at(0) == "check") {
    code = voxlog::flow_check(args.at(1), out, err);
  } else {
    voxlog::FlowDeployOptions options;
    options.file = args.at(1);
    if (args.size() > 2) options.friendly_name = args[2];
    code = voxlog::flow_deploy(options, out, err);
  }
  return {code, out.str(), err.str()};
}

// Points the command at `fake` through the process environment, as an operator would.
struct TwilioEnvironment {
  explicit TwilioEnvironment(const FakeStudio& fake, const std::string& flow_sid = "") {
    ::setenv("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef", 1);
    ::setenv("TWILIO_AUTH_TOKEN", kToken.c_str(), 1);
    ::setenv("TWILIO_API_BASE", fake.base_url().c_str(), 1);
    ::setenv("TWILIO_FLOW_SID", flow_sid.c_str(), 1);
  }
  ~TwilioEnvironment() {
    for (const char* name :
         {"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE", "TWILIO_FLOW_SID"}) {
      ::unsetenv(name);
    }
  }
};

// RFC 4648 base64, for the expected Basic credentials.
std::string base64(const std::string& in) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += abc[(n >> 18) & 63];
    out += abc[(n >> 12) & 63];
    out += i + 1 < in.size() ? abc[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? abc[n & 63] : '=';
  }
  return out;
}

std::string broken_copy() {
  std::ifstream in(kRepoFlow);
  json flow = json::parse(in);
  flow["states"][1]["transitions"][0]["next"] = "nowhere";
  char path[] = "/tmp/voxlog-flow-XXXXXX";
  int fd = ::mkstemp(path);
  ::close(fd);
  std::ofstream(path) << flow.dump();
  return path;
}

}  // namespace

TEST_CASE("flow check prints ok with the state count", "[flow-cli]") {
  auto run = flow({"check", kRepoFlow});
  CHECK(run.code == 0);
  std::ifstream in(kRepoFlow);
  auto states = json::parse(in)["states"].size();
  CHECK(run.out == kRepoFlow + ": ok (" + std::to_string(states) + " states)\n" + kRepoFlow +
                       ": flow.data variables: appointment_day, appointment_time, cancel_message, "
                       "confirm_message, goodbye_message, machine_message, message, name, place, public_url, "
                       "voicemail_prompt\n");
  CHECK(run.err.empty());
}

TEST_CASE("flow check warns about a flow.data name voxlog never sends, and still passes", "[flow-cli]") {
  std::ifstream in(kRepoFlow);
  json definition = json::parse(in);
  for (auto& state : definition["states"]) {
    if (state["name"] == "goodbye") state["properties"]["say"] = "Goodbye from {{flow.data.doctor}}.";
  }
  char path[] = "/tmp/voxlog-flow-XXXXXX";
  ::close(::mkstemp(path));
  std::ofstream(path) << definition.dump();
  auto run = flow({"check", path});
  std::remove(path);
  CHECK(run.code == 0);
  CHECK_THAT(run.out,
             Catch::Contains(": flow.data variables: appointment_day, appointment_time, cancel_message, "
                             "confirm_message, doctor, machine_message,"));
  CHECK_THAT(run.err,
             Catch::StartsWith(std::string(path) + ": warning: flow.data.doctor (read by 'goodbye') is "
                                                   "not a parameter voxlog sends"));
}

TEST_CASE("flow check prints one line per problem and exits 1", "[flow-cli]") {
  std::string path = broken_copy();
  auto run = flow({"check", path});
  std::remove(path.c_str());
  CHECK(run.code == 1);
  CHECK(run.out.empty());
  CHECK_THAT(run.err, Catch::Contains(path + ": state '"));
  CHECK_THAT(run.err, Catch::Contains("goes to 'nowhere', which is not a state\n"));
}

TEST_CASE("an unreadable flow file exits 2", "[flow-cli]") {
  auto missing = flow({"check", "/nonexistent/flow.json"});
  CHECK(missing.code == 2);
  CHECK_THAT(missing.err, Catch::Contains("/nonexistent/flow.json: cannot open"));
}

TEST_CASE("flow deploy creates a flow when TWILIO_FLOW_SID is unset", "[flow-cli]") {
  FakeStudio fake;
  TwilioEnvironment environment(fake);
  auto run = flow({"deploy", kRepoFlow, "voxlog test"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(fake.count("validate") == 1);
  CHECK(fake.count("create_flow") == 1);
  CHECK_THAT(run.out, Catch::Contains("created FW"));
  CHECK_THAT(run.out, Catch::Contains("set TWILIO_FLOW_SID=FW"));
  auto sent = fake.requests().back();
  CHECK(sent.form.at("FriendlyName") == "voxlog test");
  std::ifstream in(kRepoFlow);
  CHECK(json::parse(sent.form.at("Definition")) == json::parse(in));
  CHECK(run.out.find(kToken) == std::string::npos);
}

TEST_CASE("flow deploy updates TWILIO_FLOW_SID, and stops when Twilio rejects the definition", "[flow-cli]") {
  FakeStudio fake;
  voxlog::ClientOptions options;
  options.base_url = fake.base_url();
  options.account_sid = "AC0123456789abcdef0123456789abcdef";
  options.auth_token = kToken;
  voxlog::FlowRequest first;
  first.friendly_name = "existing";
  first.definition = json::object();
  auto existing = voxlog::StudioClient(options).create_flow(first);
  REQUIRE(existing.is_ok());

  TwilioEnvironment environment(fake, existing->sid);
  auto run = flow({"deploy", kRepoFlow});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_THAT(run.out, Catch::Contains("updated " + existing->sid + " (revision 2, published)"));
  CHECK(fake.count("update_flow") == 1);

  fake.script("validate", voxlog::testing::respond(400, R"({"code":20001,"message":"Invalid definition"})"));
  auto rejected = flow({"deploy", kRepoFlow});
  CHECK(rejected.code == 1);
  CHECK_THAT(rejected.err, Catch::Contains("validation failed: invalid_argument: Twilio 20001 (HTTP 400)"));
  CHECK(rejected.err.find(kToken) == std::string::npos);
  CHECK(fake.count("update_flow") == 1);
}

TEST_CASE("flow deploy --account deploys to a named account, with its credentials and flow", "[flow-cli]") {
  FakeStudio fake;
  TwilioEnvironment environment(fake);
  const std::string uk_token = "tok_cli_uk_secret";
  ::setenv("TWILIO_ACCOUNTS", "uk", 1);
  ::setenv("TWILIO_UK_ACCOUNT_SID", "AC22222222222222222222222222222222", 1);
  ::setenv("TWILIO_UK_AUTH_TOKEN", uk_token.c_str(), 1);
  auto unset = [] {
    for (const char* name : {"TWILIO_ACCOUNTS", "TWILIO_UK_ACCOUNT_SID", "TWILIO_UK_AUTH_TOKEN"})
      ::unsetenv(name);
  };
  voxlog::FlowDeployOptions options;
  options.file = kRepoFlow;
  options.account = "uk";
  std::ostringstream out, err;
  int code = voxlog::flow_deploy(options, out, err);
  INFO(err.str());
  CHECK(code == 0);
  CHECK_THAT(out.str(), Catch::Contains("set TWILIO_UK_FLOW_SID=FW"));
  REQUIRE_FALSE(fake.requests().empty());
  // Basic auth with the uk account's SID and token.
  CHECK(fake.requests().back().authorization ==
        "Basic " + base64("AC22222222222222222222222222222222:" + uk_token));

  options.account = "mars";
  std::ostringstream out2, err2;
  CHECK(voxlog::flow_deploy(options, out2, err2) == 2);
  CHECK_THAT(err2.str(), Catch::Contains("unknown account 'mars': the accounts are default, uk"));
  unset();
  CHECK(err.str().find(uk_token) == std::string::npos);
}

TEST_CASE("flow deploy refuses a broken flow before calling Twilio", "[flow-cli]") {
  FakeStudio fake;
  TwilioEnvironment environment(fake);
  std::string path = broken_copy();
  auto run = flow({"deploy", path});
  std::remove(path.c_str());
  CHECK(run.code == 1);
  CHECK(fake.requests().empty());
}

TEST_CASE("flow deploy without credentials is a configuration error", "[flow-cli]") {
  ::unsetenv("TWILIO_AUTH_TOKEN");
  ::setenv("TWILIO_ACCOUNT_SID", "", 1);
  auto run = flow({"deploy", kRepoFlow});
  ::unsetenv("TWILIO_ACCOUNT_SID");
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Catch::Contains("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"));
}
