// Reads never wait for the writer: an append completes while a read transaction is open, and the read
// keeps seeing its snapshot.
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
