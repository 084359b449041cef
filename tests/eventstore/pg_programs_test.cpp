// The programs on the PostgreSQL log: voxlogd with LOG_URL (a webhook in, a clean stop, the URL redacted,
// a bad scheme refused at start) and the voxlog commands reading the SQL log. PostgreSQL ctest entry
// only (tag [postgres]).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "eventstore/store.hpp"
#include "tests/eventstore/temp_dir.hpp"
#include "tests/eventstore/test_log.hpp"

using namespace voxlog;
using voxlog::test::happened;
using voxlog::test::TestLog;

#ifdef VOXLOG_CLI
TEST_CASE("the voxlog commands read the PostgreSQL log that LOG_URL names", "[postgres]") {
  TestLog log;
  {
    auto store = log.open();
    REQUIRE(store->append_sync(happened("call-A", 2, "k1")).is_ok());
    REQUIRE(store->append_sync(happened("call-B", 1)).is_ok());
  }
  voxlog::test::TempDir out;
  auto run = [&](const std::string& env, const std::string& args) {
    std::string command = env + " " + VOXLOG_CLI + std::string(" --data ") + out.sub("data") + " " + args +
                          " >" + out.sub("stdout") + " 2>" + out.sub("stderr");
    int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  auto slurp = [&](const std::string& name) { return voxlog::test::file_text(out.sub(name)); };
  std::string env = "LOG_URL='" + log.url() + "'";
  CHECK(run(env, "verify") == 0);
  CHECK(run(env, "events") == 0);
  std::string events = slurp("stdout");
  CHECK(std::count(events.begin(), events.end(), '\n') == 3);
  CHECK(events.find("\"dedupe\":\"k1\"") != std::string::npos);
  CHECK(run(env, "stats --json") == 0);
  auto stats = nlohmann::json::parse(slurp("stdout"));
  CHECK(stats["events"] == 3);
  CHECK(stats["streams"] == 2);
  CHECK(stats["dir"] == log.url());
  CHECK_FALSE(stats.contains("map_bytes"));  // LMDB-only figures are left out
  CHECK(run("LOG_URL='mysql://root:pw-secret@db/x'", "verify") == 1);
  CHECK(slurp("stderr").find("'mysql'") != std::string::npos);
  CHECK(slurp("stderr").find("pw-secret") == std::string::npos);
}
#endif

#ifdef VOXLOGD
namespace {

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("voxlogd with LOG_URL keeps its log in PostgreSQL, a bad scheme stops it at start", "[postgres]") {
  TestLog log;
  voxlog::test::TempDir dir;
  // Trust authentication ignores the password: it is only there to be hidden.
  std::string url = log.url();
  url.replace(url.find("voxlog@"), 7, "voxlog:pw-not-for-logs@");
  int port = free_loopback_port();
  std::string env = "LOG_URL='" + url + "' DATA_DIR=" + dir.sub("data") + " PORT=" + std::to_string(port) +
                    " VERIFY_WEBHOOKS=off";
  std::string out = dir.sub("out");
  REQUIRE(
      std::system((env + " " + VOXLOGD + " /nonexistent/.env >" + out + " 2>&1 & echo $! >" + dir.sub("pid"))
                      .c_str()) == 0);
  pid_t pid = std::stoi(voxlog::test::file_text(dir.sub("pid")));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (voxlog::test::file_text(out).find("listening on") == std::string::npos && ::kill(pid, 0) == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  INFO(voxlog::test::file_text(out));
  REQUIRE(voxlog::test::file_text(out).find("listening on") != std::string::npos);
  std::string post =
      "curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "
      "'X-Twilio-Signature: ' -d '{\"execution_sid\":\"FN1\",\"call_sid\":\"CA1\",\"event\":"
      "\"answered\",\"call_status\":\"in-progress\",\"timestamp\":\"1\"}' http://127.0.0.1:" +
      std::to_string(port) + "/api/calls/webhooks/status >" + dir.sub("code");
  REQUIRE(std::system(post.c_str()) == 0);
  CHECK(voxlog::test::file_text(dir.sub("code")) == "200");
  REQUIRE(std::system(post.c_str()) == 0);  // Studio retries: the same body is a duplicate
  CHECK(voxlog::test::file_text(dir.sub("code")) == "200");
  ::kill(pid, SIGTERM);
  while (::kill(pid, 0) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::string output = voxlog::test::file_text(out);
  CHECK(output.find("voxlogd: stopped") != std::string::npos);
  CHECK(output.find("log=postgresql://voxlog:***@127.0.0.1") != std::string::npos);
  CHECK(output.find("pw-not-for-logs") == std::string::npos);

  StoreOptions ro;
  ro.read_only = true;
  auto store = log.open(ro);
  auto events = store->read_all(0, 100);
  REQUIRE(events.is_ok());
  int webhooks = 0;
  for (const Event& e : *events)
    webhooks += e.source == source::twilio_webhook && e.type == "WebhookReceived";
  CHECK(webhooks == 1);
  CHECK(store->verify().is_ok());
  CHECK(std::filesystem::exists(dir.sub("data/views")));  // the views stay in DATA_DIR
  CHECK_FALSE(std::filesystem::exists(dir.sub("data/log")));

  std::string bad = "LOG_URL='redis://:pw-not-for-logs@cache' DATA_DIR=" + dir.sub("data2") + " PORT=0 " +
                    VOXLOGD + " /nonexistent/.env >" + out + " 2>&1";
  int status = std::system(bad.c_str());
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) != 0));
  CHECK(voxlog::test::file_text(out).find("'redis'") != std::string::npos);
  CHECK(voxlog::test::file_text(out).find("pw-not-for-logs") == std::string::npos);
}
#endif
