// Thread classes (http/thread_class.hpp) on the running kernel: what the scheduler reports for a thread
// (/proc/.../sched: prio is 120 + nice, se.slice the slice in ns) after each call, that a thread started by
// an answering thread inherits its short slice, and that the live subscribers' io threads (LiveLoops) put
// themselves in the fan-out class even when started by an answering thread, as in voxlogd.
#include "http/thread_class.hpp"

#include <dirent.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "http/live_socket.hpp"

using namespace voxlog;

namespace {

// The numeric fields of a task's /proc sched file ("name : value" lines).
std::map<std::string, long long> sched_of(const std::string& task_dir) {
  std::map<std::string, long long> fields;
  std::ifstream in(task_dir + "/sched");
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, line.find_first_of(" \t"));
    fields[name] = std::atoll(line.c_str() + colon + 1);
  }
  return fields;
}

std::map<std::string, long long> sched_of_this_thread() {
  return sched_of("/proc/thread-self");
}

constexpr long long kShortSliceNs = 100'000;

}  // namespace

TEST_CASE("thread classes: an answering thread has the short slice, and threads it starts inherit it") {
  bool taken = false;
  std::map<std::string, long long> own, child;
  std::thread answering([&] {
    taken = become_answering_thread();
    own = sched_of_this_thread();
    std::thread([&] { child = sched_of_this_thread(); }).join();
  });
  answering.join();
  if (!taken || own.count("se.slice") == 0) {
    WARN("this kernel has no per-thread slice (sched_setattr sched_runtime, Linux 6.12): nothing to check");
    return;
  }
  CHECK(own.at("se.slice") == kShortSliceNs);
  CHECK(child.at("se.slice") == kShortSliceNs);
  CHECK(own.at("prio") == child.at("prio"));  // the nice is left as it was
}

TEST_CASE("thread classes: a fan-out thread has nice 5 and the kernel's default slice") {
  bool taken = false;
  std::map<std::string, long long> fan_out, plain;
  std::thread([&] { plain = sched_of_this_thread(); }).join();
  std::thread([&] {
    become_answering_thread();
    taken = become_fan_out_thread();
    fan_out = sched_of_this_thread();
  }).join();
  REQUIRE(fan_out.count("prio") == 1);
  CHECK(fan_out.at("prio") == std::max<long long>(120 + kFanOutNice, plain.at("prio")));
  if (taken && plain.count("se.slice")) CHECK(fan_out.at("se.slice") == plain.at("se.slice"));
}

TEST_CASE("thread classes: LiveLoops' threads are fan-out threads, whoever starts them") {
  std::vector<std::map<std::string, long long>> live;  // Catch's checks stay on the test's own thread
  std::thread([&] {
    become_answering_thread();
    LiveLoops loops(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // each thread sets its class first thing
    if (DIR* tasks = opendir("/proc/self/task")) {
      while (dirent* entry = readdir(tasks)) {
        std::string dir = std::string("/proc/self/task/") + entry->d_name;
        std::ifstream comm(dir + "/comm");
        std::string name;
        if (std::getline(comm, name) && name == "voxlog.live") live.push_back(sched_of(dir));
      }
      closedir(tasks);
    }
    loops.stop(std::chrono::milliseconds(0));
  }).join();
  REQUIRE(live.size() == 2);
  long long started_at = sched_of_this_thread().at("prio");
  for (const auto& sched : live) {
    CHECK(sched.at("prio") == std::max<long long>(120 + kFanOutNice, started_at));
    if (sched.count("se.slice")) CHECK(sched.at("se.slice") != kShortSliceNs);
  }
}
