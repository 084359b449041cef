// The `voxlog` binary (events, verify, stats) run as a real process against a real store.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "eventstore/store.hpp"
#include "tests/eventstore/raw_lmdb.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;
using voxlog::test::TempDir;

namespace {

struct Run {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `voxlog <arguments>` through the shell (arguments are test-controlled, no quoting needed).
Run voxlog_cli(const std::string& arguments, const std::string& env = {}) {
  TempDir capture;
  std::string command = env + (env.empty() ? "" : " ") + VOXLOG_CLI + std::string(" ") + arguments + " >" +
                        capture.sub("out") + " 2>" + capture.sub("err");
  int status = std::system(command.c_str());
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  run.out = slurp(capture.sub("out"));
  run.err = slurp(capture.sub("err"));
  return run;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// Fills DIR/log with 6 events: streams call-A (v1..3), call-B (v1..2), campaign-1 (v1).
void fill_log(const std::string& data_dir) {
  auto store = EventStore::open(data_dir + "/log");
  REQUIRE(store.is_ok());
  auto append = [&](const std::string& stream, std::vector<std::string> types, const std::string& dedupe) {
    AppendRequest r;
    r.stream = stream;
    r.dedupe = dedupe;
    r.source = source::twilio_webhook;
    r.ts = 1700000000000;
    for (auto& t : types) r.events.push_back(NewEvent{t, {{"n", r.events.size()}, {"t", t}}, 1});
    REQUIRE((*store)->append_sync(std::move(r)).is_ok());
  };
  append("call-A", {"CallRequested", "ExecutionCreated"}, "");
  append("call-B", {"CallRequested"}, "tok-b");
  append("campaign-1", {"CampaignCreated"}, "");
  append("call-A", {"CallStatusChanged"}, "");
  append("call-B", {"CallStatusChanged"}, "");
}

std::vector<std::uint64_t> seqs_of(const std::vector<nlohmann::json>& lines) {
  std::vector<std::uint64_t> seqs;
  for (auto& l : lines) seqs.push_back(l["seq"].get<std::uint64_t>());
  return seqs;
}

}  // namespace

TEST_CASE("voxlog events prints the log as JSON lines, filtered", "[eventstore][cli]") {
  TempDir data;
  fill_log(data.path());
  const std::string d = "--data " + data.path() + " ";

  Run all = voxlog_cli(d + "events");
  INFO(all.err);
  REQUIRE(all.exit_code == 0);
  auto lines = json_lines(all.out);
  REQUIRE(lines.size() == 6);
  CHECK(seqs_of(lines) == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6});
  CHECK(lines[2] == nlohmann::json::parse(R"({"seq":3,"stream":"call-B","version":1,"type":"CallRequested",
    "v":1,"ts":1700000000000,"source":"twilio-webhook","dedupe":"tok-b","data":{"n":0,"t":"CallRequested"}})"));

  CHECK(seqs_of(json_lines(voxlog_cli(d + "events --after 4").out)) == std::vector<std::uint64_t>{5, 6});
  CHECK(seqs_of(json_lines(voxlog_cli(d + "events --limit 2").out)) == std::vector<std::uint64_t>{1, 2});
  CHECK(seqs_of(json_lines(voxlog_cli(d + "events --stream call-A").out)) ==
        std::vector<std::uint64_t>{1, 2, 5});
  CHECK(seqs_of(json_lines(voxlog_cli(d + "events --stream=call-A --after 1 --limit 1").out)) ==
        std::vector<std::uint64_t>{2});
  CHECK(voxlog_cli(d + "events --stream call").out.empty());
  CHECK(seqs_of(json_lines(voxlog_cli(d + "events --type CallRequested --type CampaignCreated").out)) ==
        std::vector<std::uint64_t>{1, 3, 4});
  CHECK(seqs_of(json_lines(voxlog_cli(d + "events --type CallStatusChanged --stream call-B").out)) ==
        std::vector<std::uint64_t>{6});
  // DATA_DIR works as well as --data.
  CHECK(json_lines(voxlog_cli("events", "DATA_DIR=" + data.path()).out).size() == 6);
}

TEST_CASE("voxlog refuses bad command lines with exit 2 and a message naming the problem",
          "[eventstore][cli]") {
  TempDir data;
  fill_log(data.path());
  const std::string d = "--data " + data.path() + " ";
  Run bad_limit = voxlog_cli(d + "events --limit ten");
  CHECK(bad_limit.exit_code == 2);
  CHECK(bad_limit.err ==
        "voxlog events: invalid_argument: --limit wants a non-negative integer, got 'ten'\n");
  CHECK(voxlog_cli(d + "events --colour red").err ==
        "voxlog events: invalid_argument: unknown option '--colour'\n");
  CHECK(voxlog_cli(d + "events --after").exit_code == 2);
  CHECK(voxlog_cli(d + "events --after 1 --after 2").exit_code == 2);
  CHECK(voxlog_cli(d + "frobnicate").exit_code == 2);
  CHECK(voxlog_cli("").exit_code == 2);
}

TEST_CASE("voxlog on a missing data dir fails and creates nothing", "[eventstore][cli]") {
  TempDir data;
  Run run = voxlog_cli("--data " + data.sub("nothing") + " verify");
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("not_found: no event store at " + data.sub("nothing") + "/log") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(data.sub("nothing")));
}

TEST_CASE("voxlog verify passes a sound log and names a corrupted value", "[eventstore][cli]") {
  TempDir data;
  fill_log(data.path());
  Run ok = voxlog_cli("--data " + data.path() + " verify");
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "ok: 6 events, 3 streams\n");

  test::flip_event_byte(data.path() + "/log", 4);
  Run broken = voxlog_cli("--data " + data.path() + " verify");
  CHECK(broken.exit_code == 1);
  CHECK(broken.out.empty());
  CHECK(broken.err.rfind("voxlog verify: data_loss: event seq 4: checksum mismatch (stored ", 0) == 0);
}

TEST_CASE("voxlog stats prints counts and sizes", "[eventstore][cli]") {
  TempDir data;
  fill_log(data.path());
  Run run = voxlog_cli("--data " + data.path() + " stats --json");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  auto j = nlohmann::json::parse(run.out);
  CHECK(j["events"] == 6);
  CHECK(j["last_seq"] == 6);
  CHECK(j["streams"] == 3);
  CHECK(j["dedupe_keys"] == 1);
  CHECK(j["events_by_type"] ==
        nlohmann::json{
            {"CallRequested", 2}, {"CallStatusChanged", 2}, {"CampaignCreated", 1}, {"ExecutionCreated", 1}});
  CHECK(j["file_bytes"].get<std::uint64_t>() > 0);
  CHECK(j["map_bytes"].get<std::uint64_t>() >= j["file_bytes"].get<std::uint64_t>());
  Run text = voxlog_cli("--data " + data.path() + " stats");
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("events            6\n") != std::string::npos);
}
