// Crash safety: a child process appends in a loop and reports each acknowledged seq over a pipe; the
// parent SIGKILLs it at a random moment, reopens the store, and checks that every acknowledged event is
// there with its content and that verify() passes.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "eventstore/store.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;
using voxlog::test::TempDir;

namespace {

constexpr int kWriters = 8;  // concurrent appenders in the child, so commits hold several requests

std::string dedupe_key(std::uint64_t round, std::uint64_t writer, std::uint64_t i) {
  return "r" + std::to_string(round) + "-w" + std::to_string(writer) + "-" + std::to_string(i);
}

// Runs in the forked child: never returns. Each acknowledged append writes (seq, writer, i) to `fd`.
[[noreturn]] void child_append_forever(const std::string& dir, int round, int fd) {
  auto store = EventStore::open(dir);
  if (!store.is_ok()) _exit(3);
  std::mutex pipe_mu;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (std::uint64_t i = 0;; ++i) {
        AppendRequest r;
        r.stream = "crash-" + std::to_string(w);
        r.dedupe = dedupe_key(round, w, i);
        r.events.push_back(
            NewEvent{"Appended", {{"writer", w}, {"i", i}, {"pad", std::string(200, 'p')}}, 1});
        auto res = (*store)->append_sync(std::move(r));
        if (!res.is_ok()) _exit(4);
        std::uint64_t record[4] = {res->last_seq, static_cast<std::uint64_t>(round),
                                   static_cast<std::uint64_t>(w), i};
        std::lock_guard<std::mutex> lock(pipe_mu);
        if (write(fd, record, sizeof record) != sizeof record) _exit(5);
      }
    });
  }
  for (auto& t : writers) t.join();
  _exit(6);
}

}  // namespace

TEST_CASE("every acknowledged append survives SIGKILL of the appending process", "[eventstore][crash]") {
  TempDir tmp;
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(20, 400);
  std::map<std::uint64_t, std::array<std::uint64_t, 3>> acknowledged;  // seq -> (round, writer, i)
  for (int round = 0; round < 6; ++round) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(fds[0]);
      child_append_forever(tmp.path(), round, fds[1]);
    }
    close(fds[1]);
    // Wait for the child's first acknowledgement, so the random kill lands among appends, not before.
    std::uint64_t record[4];
    std::size_t this_round = 0;
    REQUIRE(read(fds[0], record, sizeof record) == sizeof record);
    acknowledged[record[0]] = {record[1], record[2], record[3]};
    ++this_round;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));  // killed by us, not exited on an append error
    while (read(fds[0], record, sizeof record) == sizeof record) {
      acknowledged[record[0]] = {record[1], record[2], record[3]};
      ++this_round;
    }
    close(fds[0]);
    INFO("round " << round << ": " << this_round << " acknowledged appends");
    CHECK(this_round > 1);

    auto store = EventStore::open(tmp.path());
    REQUIRE(store.is_ok());
    Status verified = (*store)->verify();
    INFO(verified.to_string());
    REQUIRE(verified.is_ok());
    REQUIRE((*store)->last_seq() >= acknowledged.rbegin()->first);
    // Every acknowledged event, from this round and the earlier ones, is there with its content.
    std::size_t checked = 0;
    REQUIRE((*store)
                ->scan(0,
                       [&](const Event& e) {
                         auto it = acknowledged.find(e.seq);
                         if (it == acknowledged.end())
                           return true;  // committed, but killed before it was reported
                         auto [r, writer, i] = it->second;
                         CHECK(e.stream == "crash-" + std::to_string(writer));
                         CHECK(e.dedupe == dedupe_key(r, writer, i));
                         CHECK(e.data["i"] == i);
                         ++checked;
                         return true;
                       })
                .is_ok());
    REQUIRE(checked == acknowledged.size());
  }
}
