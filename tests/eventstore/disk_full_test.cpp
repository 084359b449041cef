// A full disk, simulated with RLIMIT_FSIZE in a child process: the failing commit is answered with
// resource_exhausted, and the log keeps every acknowledged event and still verifies.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include <catch2/catch.hpp>

#include "eventstore/store.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;
using voxlog::test::TempDir;

namespace {

// What the child reports for each append: the acknowledged last seq, or code != 0 and then a message.
struct Report {
  std::uint64_t seq;
  std::uint64_t code;
};

AppendRequest padded(std::uint64_t i) {
  AppendRequest r;
  r.stream = "disk-" + std::to_string(i % 5);
  r.dedupe = "disk-" + std::to_string(i);
  r.events.push_back(NewEvent{"Padded", {{"i", i}, {"pad", std::string(3000, 'p')}}, 1});
  return r;
}

[[noreturn]] void child_fill_until_full(const std::string& dir, std::uint64_t limit_bytes, int fd) {
  signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG instead of killing us
  rlimit limit{limit_bytes, limit_bytes};
  if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(3);
  auto store = EventStore::open(dir);
  if (!store.is_ok()) _exit(4);
  for (std::uint64_t i = 0; i < 100000; ++i) {
    auto r = (*store)->append_sync(padded(1000 + i));
    Report report{r.is_ok() ? r->last_seq : 0, r.is_ok() ? 0 : static_cast<std::uint64_t>(r.status().code())};
    if (write(fd, &report, sizeof report) != sizeof report) _exit(5);
    if (!r.is_ok()) {
      const std::string& m = r.status().message();
      if (write(fd, m.data(), m.size()) != static_cast<ssize_t>(m.size())) _exit(5);
      _exit(0);
    }
  }
  _exit(6);  // never filled up
}

}  // namespace

TEST_CASE("a full disk fails the append with resource_exhausted and leaves the log intact",
          "[eventstore][failure]") {
  TempDir tmp;
  {
    auto store = EventStore::open(tmp.path());
    REQUIRE(store.is_ok());
    for (std::uint64_t i = 0; i < 20; ++i) REQUIRE((*store)->append_sync(padded(i)).is_ok());
  }
  auto size = std::filesystem::file_size(tmp.sub("data.mdb"));
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(fds[0]);
    child_fill_until_full(tmp.path(), size + 256 * 1024, fds[1]);
  }
  close(fds[1]);
  std::set<std::uint64_t> acknowledged;
  Report report{};
  std::string message;
  while (read(fds[0], &report, sizeof report) == sizeof report) {
    if (report.code != 0) {
      char buf[512];
      for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) message.append(buf, n);
      break;
    }
    acknowledged.insert(report.seq);
  }
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  INFO(message);
  CHECK(static_cast<StatusCode>(report.code) == StatusCode::resource_exhausted);
  CHECK(message.find("File too large") != std::string::npos);
  CHECK(acknowledged.size() > 10);  // it did fill up, not fail at once

  auto store = EventStore::open(tmp.path());
  REQUIRE(store.is_ok());
  Status verified = (*store)->verify();
  INFO(verified.to_string());
  CHECK(verified.is_ok());
  CHECK((*store)->last_seq() >= *acknowledged.rbegin());
  std::uint64_t found = 0;
  REQUIRE((*store)
              ->scan(0,
                     [&](const Event& e) {
                       if (acknowledged.count(e.seq)) {
                         CHECK(e.data["i"] == 1000 + (e.seq - 21));
                         ++found;
                       }
                       return true;
                     })
              .is_ok());
  CHECK(found == acknowledged.size());
  // With room again, appending carries on from where the log stands: the next seq, no gap.
  std::uint64_t before = (*store)->last_seq();
  auto next = (*store)->append_sync(padded(99));
  REQUIRE(next.is_ok());
  CHECK(next->first_seq == before + 1);
  CHECK((*store)->last_seq() == before + 1);
  CHECK((*store)->verify().is_ok());
}
