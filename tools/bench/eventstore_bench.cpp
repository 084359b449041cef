// eventstore_bench [--only group|replay] [dir]: durable append throughput and commit latency with 1 and 64
// concurrent appenders, the same 64 appenders with group commit disabled (max_batch = 1, one commit per
// event), and full decoding replay of 1,000,000 events. Uses `dir` (kept) or a fresh directory under /tmp
// (removed). Figures and the command are recorded in tools/bench/README.md.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/store.hpp"

using namespace voxlog;
using Clock = std::chrono::steady_clock;

namespace {

// A Twilio status callback as a webhook event records it: about 300 bytes of JSON.
nlohmann::json status_callback(std::uint64_t n) {
  char sid[40];
  std::snprintf(sid, sizeof sid, "CA%032llx", static_cast<unsigned long long>(n * 2654435761u));
  return {{"AccountSid", "AC00000000000000000000000000000000"},
          {"ApiVersion", "2010-04-01"},
          {"CallSid", sid},
          {"CallStatus", "in-progress"},
          {"CallbackSource", "call-progress-events"},
          {"Direction", "outbound-api"},
          {"From", "+442071838750"},
          {"To", "+447700900" + std::to_string(100 + n % 900)},
          {"SequenceNumber", std::to_string(n % 7)},
          {"Timestamp", "Tue, 25 Nov 2026 06:14:00 +0000"}};
}

AppendRequest single_event(std::uint64_t appender, std::uint64_t i) {
  AppendRequest r;
  r.stream = "call-FN" + std::to_string(appender) + "-" + std::to_string(i / 8);
  r.source = source::twilio_webhook;
  r.dedupe = "bench-" + std::to_string(appender) + "-" + std::to_string(i);
  r.events.push_back(NewEvent{"CallStatusChanged", status_callback(appender * 1000003 + i), 1});
  return r;
}

// CPU seconds used by this process (all threads): with other work on the machine, wall time alone says
// little about the replay's own cost.
double process_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// The 1-minute load average: the machine is shared, so every figure is printed with it.
std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  char buf[64] = "?";
  if (f) {
    if (!std::fgets(buf, sizeof buf, f)) buf[0] = '?';
    std::fclose(f);
  }
  std::string s(buf);
  return s.substr(0, s.find(' '));
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[at];
}

// What the disk itself allows: 4 KiB write + fdatasync, 200 times. An LMDB commit syncs twice (data
// pages, then the meta page), so one commit per event cannot beat half this rate.
void print_disk_sync(const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::string path = dir + "/sync-probe";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) {
    std::perror("open sync probe");
    std::exit(1);
  }
  std::vector<double> ms;
  char page[4096] = {};
  for (int i = 0; i < 200; ++i) {
    auto start = Clock::now();
    if (::pwrite(fd, page, sizeof page, 0) != static_cast<ssize_t>(sizeof page) || ::fdatasync(fd) != 0) {
      std::perror("sync probe");
      std::exit(1);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  ::close(fd);
  std::filesystem::remove(path);
  std::printf("disk: 4 KiB write + fdatasync p50 %.2f ms, p99 %.2f ms (load %s)\n\n", percentile(ms, 0.5),
              percentile(ms, 0.99), load_average().c_str());
}

struct AppendFigures {
  std::size_t events = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0;
  std::uint64_t commits = 0;
  double txn_seconds = 0;  // summed over commits: transaction begin to durable commit, on the writer
};

// `appenders` threads, each with one append in flight at a time, `per_appender` appends each. Latency is
// from the append() call to its callback (after the durable commit).
AppendFigures run_appenders(const std::string& dir, int appenders, int per_appender, std::size_t max_batch) {
  StoreOptions options;
  options.max_batch = max_batch;
  auto store = EventStore::open(dir, options);
  if (!store) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), store.status().to_string().c_str());
    std::exit(1);
  }
  std::atomic<double> txn_seconds{0};
  (*store)->on_commit([&](const CommitInfo& info) { txn_seconds = txn_seconds + info.seconds; });
  std::vector<std::vector<double>> latencies(appenders);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int a = 0; a < appenders; ++a) {
    threads.emplace_back([&, a] {
      std::mutex mu;
      std::condition_variable cv;
      for (int i = 0; i < per_appender; ++i) {
        bool done = false;
        auto sent = Clock::now();
        (*store)->append(
            single_event(static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(i)),
            [&](const Result<AppendResult>& r) {
              if (!r) {
                std::fprintf(stderr, "append: %s\n", r.status().to_string().c_str());
                std::exit(1);
              }
              latencies[a].push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
              std::lock_guard<std::mutex> lock(mu);
              done = true;
              cv.notify_one();
            });
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return done; });
      }
    });
  }
  for (auto& t : threads) t.join();
  AppendFigures f;
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  f.events = all.size();
  f.p50_ms = percentile(all, 0.50);
  f.p99_ms = percentile(all, 0.99);
  f.commits = (*store)->stats()->commits;
  f.txn_seconds = txn_seconds;
  if (Status st = (*store)->verify(); !st) {
    std::fprintf(stderr, "verify after the run: %s\n", st.to_string().c_str());
    std::exit(1);
  }
  return f;
}

void print_appenders(const char* label, const AppendFigures& f) {
  std::printf("%-44s %9.0f %9.2f %9.2f %9zu %9.1f %8.2f %6s\n", label,
              static_cast<double>(f.events) / f.seconds, f.p50_ms, f.p99_ms, f.events,
              static_cast<double>(f.events) / static_cast<double>(f.commits),
              1000 * f.txn_seconds / static_cast<double>(f.commits), load_average().c_str());
}

// Writes `total` events fast (1,000-event requests, several in flight), then times full decoding scans.
void run_replay(const std::string& dir, std::uint64_t total) {
  auto store = EventStore::open(dir);
  if (!store) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), store.status().to_string().c_str());
    std::exit(1);
  }
  constexpr std::uint64_t kPerRequest = 1000, kInFlight = 8;
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t in_flight = 0;
  auto load_start = Clock::now();
  for (std::uint64_t base = 0; base < total; base += kPerRequest) {
    AppendRequest r;
    r.stream = "call-FN" + std::to_string(base / kPerRequest);
    r.source = source::twilio_webhook;
    for (std::uint64_t i = base; i < std::min(total, base + kPerRequest); ++i) {
      r.events.push_back(NewEvent{"CallStatusChanged", status_callback(i), 1});
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight < kInFlight; });
    ++in_flight;
    lock.unlock();
    (*store)->append(std::move(r), [&](const Result<AppendResult>& res) {
      if (!res) {
        std::fprintf(stderr, "bulk append: %s\n", res.status().to_string().c_str());
        std::exit(1);
      }
      std::lock_guard<std::mutex> guard(mu);
      --in_flight;
      cv.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  double load_seconds = std::chrono::duration<double>(Clock::now() - load_start).count();
  auto stats = (*store)->stats();
  std::printf("\nbulk load: %llu events in %.2f s (%.0f events/s, 1,000-event appends), data.mdb %.0f MB\n",
              static_cast<unsigned long long>(total), load_seconds, static_cast<double>(total) / load_seconds,
              static_cast<double>(stats->file_bytes) / 1e6);
  std::printf("%-44s %12s %10s %10s %6s\n", "replay: scan(0) decoding every event", "events/s", "seconds",
              "cpu s", "load");
  for (int pass = 1; pass <= 3; ++pass) {
    std::uint64_t events = 0, fields = 0;
    auto start = Clock::now();
    double cpu_start = process_cpu_seconds();
    Status st = (*store)->scan(0, [&](const Event& e) {
      ++events;
      fields += e.data.size();  // touch the decoded data so nothing is skipped
      return true;
    });
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    double cpu_seconds = process_cpu_seconds() - cpu_start;
    if (!st || events != total || fields != total * 10) {
      std::fprintf(stderr, "replay: %s, %llu events\n", st.to_string().c_str(),
                   static_cast<unsigned long long>(events));
      std::exit(1);
    }
    char label[64];
    std::snprintf(label, sizeof label, "  pass %d", pass);
    std::printf("%-44s %12.0f %10.3f %10.3f %6s\n", label, static_cast<double>(events) / seconds, seconds,
                cpu_seconds, load_average().c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows line by line even when redirected
  std::string root, only;
  bool remove_after = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr, "usage: eventstore_bench [--only group|replay] [dir]\n");
      return 2;
    } else {
      root = arg;
    }
  }
  if (root.empty()) {
    char pattern[] = "/tmp/voxlog-bench-XXXXXX";
    if (!mkdtemp(pattern)) {
      std::perror("mkdtemp");
      return 1;
    }
    root = pattern;
    remove_after = true;
  }
  std::printf("eventstore_bench: %s, %u hardware threads, ~%zu-byte event data, durable commits\n\n",
              root.c_str(), std::thread::hardware_concurrency(), status_callback(1).dump().size());
  print_disk_sync(root);
  if (only.empty() || only == "group") {
    std::printf("%-44s %9s %9s %9s %9s %9s %8s %6s\n", "durable single-event appends", "appends/s", "p50 ms",
                "p99 ms", "events", "ev/commit", "txn ms", "load");
  }
  if (only.empty()) {
    print_appenders("1 appender (= one commit per event)", run_appenders(root + "/one", 1, 500, 4096));
    print_appenders("64 appenders, max_batch=1 (no group commit)",
                    run_appenders(root + "/nogroup", 64, 10, 1));
  }
  if (only.empty() || only == "group") {
    print_appenders("64 appenders, group commit", run_appenders(root + "/group", 64, 500, 4096));
  }
  if (only.empty() || only == "replay") run_replay(root + "/replay", 1000000);
  if (remove_after) std::filesystem::remove_all(root);
  return 0;
}
