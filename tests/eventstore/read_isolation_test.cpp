// Reads never wait for the writer: an append completes while a read transaction is open, and the read
// keeps seeing its snapshot; the map grows safely while other threads read.
#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "eventstore/store.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;
using voxlog::test::TempDir;

namespace {

AppendRequest one(const std::string& stream) {
  AppendRequest r;
  r.stream = stream;
  r.events.push_back(NewEvent{"Happened", {{"stream", stream}}, 1});
  return r;
}

}  // namespace

TEST_CASE("appends commit while a scan is in progress, and the scan sees its snapshot", "[eventstore]") {
  TempDir tmp;
  auto opened = EventStore::open(tmp.path());
  REQUIRE(opened.is_ok());
  auto& store = *opened;
  for (int i = 0; i < 10; ++i) REQUIRE(store->append_sync(one("before")).is_ok());
  std::vector<std::uint64_t> scanned;
  std::uint64_t appended_during_scan = 0;
  REQUIRE(store
              ->scan(0,
                     [&](const Event& e) {
                       scanned.push_back(e.seq);
                       if (e.seq == 3) {
                         // If the open read blocked the writer, this would never return.
                         for (int i = 0; i < 5; ++i) {
                           auto r = store->append_sync(one("during"));
                           REQUIRE(r.is_ok());
                           appended_during_scan = r->last_seq;
                         }
                         auto fresh = store->read_all(10, 100);  // a new read sees the new commits at once
                         REQUIRE(fresh.is_ok());
                         CHECK(fresh->size() == 5);
                       }
                       return true;
                     })
              .is_ok());
  CHECK(appended_during_scan == 15);
  CHECK(scanned.size() == 10);  // the scan's snapshot predates the appends
  CHECK(store->last_seq() == 15);
  CHECK(store->verify().is_ok());
}

TEST_CASE("the map grows while readers keep reading on other threads", "[eventstore]") {
  TempDir tmp;
  StoreOptions options;
  options.initial_map_size = 64 * 1024;  // forces several resizes below
  auto opened = EventStore::open(tmp.path(), options);
  REQUIRE(opened.is_ok());
  auto& store = *opened;
  std::uint64_t initial_map = store->stats()->map_bytes;
  std::atomic<bool> stop{false};
  std::atomic<int> read_errors{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto page = store->read_all(store->last_seq() > 20 ? store->last_seq() - 20 : 0, 20);
        auto version = store->stream_version("grow-0");
        if (!page.is_ok() || !version.is_ok()) ++read_errors;
        ++reads;
      }
    });
  }
  std::vector<std::thread> writers;
  std::atomic<int> write_errors{0};
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        AppendRequest r = one("grow-" + std::to_string(t));
        r.events[0].data["pad"] = std::string(2000, 'g');
        if (!store->append_sync(std::move(r)).is_ok()) ++write_errors;
      }
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  for (auto& r : readers) r.join();
  CHECK(write_errors.load() == 0);
  CHECK(read_errors.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(store->last_seq() == 400);
  CHECK(store->stats()->map_bytes > initial_map);
  CHECK(store->verify().is_ok());
}
