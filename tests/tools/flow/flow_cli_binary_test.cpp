// `voxlog flow ...` through the real binary, as an operator runs it (only built when the voxlog target
// exists).
#include <array>
#include <cstdio>
#include <string>

#include <sys/wait.h>
#include <catch2/catch.hpp>

#include "tests/actors/twilio/fake_studio.hpp"

using voxlog::testing::FakeStudio;

namespace {

struct Run {
  int code;
  std::string output;  // stdout and stderr
};

Run voxlog_cli(const std::string& arguments, const std::string& environment = "") {
  std::string command = environment + " '" VOXLOG_CLI "' " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

const std::string kFlow = std::string(VOXLOG_SOURCE_DIR) + "/flow.json";

}  // namespace

TEST_CASE("voxlog flow check on the repository's flow.json", "[flow-cli][binary]") {
  auto run = voxlog_cli("flow check '" + kFlow + "'");
  CHECK(run.code == 0);
  CHECK_THAT(run.output, Catch::Contains(kFlow + ": ok ("));
}

TEST_CASE("voxlog flow check on the seed flow exits 1 naming the hard-coded host", "[flow-cli][binary]") {
  auto run = voxlog_cli("flow check '" + std::string(VOXLOG_SOURCE_DIR) +
                        "/tests/tools/flow/fixtures/seed-flow.json'");
  CHECK(run.code == 1);
  CHECK_THAT(run.output, Catch::Contains("variable 'NGROK_URL' hard-codes the webhook host"));
}

TEST_CASE("voxlog flow usage errors exit 2", "[flow-cli][binary]") {
  CHECK(voxlog_cli("flow").code == 2);
  CHECK(voxlog_cli("flow push").code == 2);
  CHECK(voxlog_cli("flow check --name x").code == 2);
  auto run = voxlog_cli("flow deploy '" + kFlow + "' --colour blue");
  CHECK(run.code == 2);
  CHECK_THAT(run.output, Catch::Contains("unknown option '--colour'"));
}

TEST_CASE("voxlog flow deploy creates the flow on a fake Studio", "[flow-cli][binary]") {
  FakeStudio fake;
  std::string environment =
      "TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef TWILIO_AUTH_TOKEN=tok_bin_secret "
      "TWILIO_FLOW_SID= TWILIO_API_BASE=" +
      fake.base_url();
  auto run = voxlog_cli("flow deploy '" + kFlow + "' --name 'voxlog reminders' --draft", environment);
  INFO(run.output);
  CHECK(run.code == 0);
  CHECK_THAT(run.output, Catch::Contains("created FW"));
  CHECK(run.output.find("tok_bin_secret") == std::string::npos);
  CHECK(fake.count("validate") == 1);
  CHECK(fake.count("create_flow") == 1);
  auto sent = fake.requests().back();
  CHECK(sent.form.at("FriendlyName") == "voxlog reminders");
  CHECK(sent.form.at("Status") == "draft");
}
