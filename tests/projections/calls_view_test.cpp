// CallsView: what is staged stays invisible to readers until commit(), survives only once committed, and a
// batch that does not follow on drops what was staged instead of half-applying it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "projections/calls_view.hpp"
#include "projections/event_types.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;

namespace {

Event status_changed(std::uint64_t seq, const std::string& sid, const std::string& status) {
  Event e;
  e.seq = seq;
  e.stream = stream_prefix::call + sid;
  e.version = seq;
  e.type = event_type::call_status_changed;
  e.ts = 1000 + static_cast<std::int64_t>(seq);
  e.source = "test";
  e.data = {{"status", status}, {"execution_sid", sid}};
  return e;
}

std::vector<const Event*> pointers(const std::vector<Event>& events) {
  std::vector<const Event*> out;
  for (const Event& e : events) out.push_back(&e);
  return out;
}

std::unique_ptr<CallsView> open_view(const std::string& dir) {
  auto view = CallsView::open(dir);
  REQUIRE(view);
  return std::move(*view);
}

}  // namespace

TEST_CASE("staged rows reach readers only when committed, and commits survive a reopen") {
  test::TempDir dir;
  auto view = open_view(dir.sub("views"));
  std::vector<Event> first = {status_changed(1, "FN1", "queued"), status_changed(2, "FN1", "ringing")};
  auto changed = view->stage(pointers(first));
  REQUIRE(changed);
  CHECK(changed->size() == 2);
  CHECK(view->has_staged());
  CHECK(view->staged_through() == 2);
  CHECK(view->checkpoint() == 0);  // readers still see the last commit
  CHECK_FALSE(view->find("FN1"));

  std::vector<Event> second = {status_changed(3, "FN1", "in-progress"), status_changed(4, "FN2", "queued")};
  REQUIRE(view->stage(pointers(second)));
  CHECK(view->staged_through() == 4);
  REQUIRE(view->commit());
  CHECK_FALSE(view->has_staged());
  CHECK(view->checkpoint() == 4);
  REQUIRE(view->find("FN1"));
  CHECK(view->find("FN1")->status == "in-progress");
  CHECK(view->count() == 2);
  CHECK(view->commit());  // nothing staged: a no-op

  view.reset();
  view = open_view(dir.sub("views"));
  CHECK(view->checkpoint() == 4);
  CHECK(view->find("FN2")->status == "queued");
}

TEST_CASE("staging skips what was already staged, so each event is applied once") {
  test::TempDir dir;
  auto view = open_view(dir.sub("views"));
  std::vector<Event> events = {status_changed(1, "FN1", "queued"), status_changed(2, "FN1", "ringing")};
  REQUIRE(view->stage(pointers(events)));
  std::vector<Event> overlapping = {status_changed(2, "FN1", "ringing"), status_changed(3, "FN1", "busy")};
  auto changed = view->stage(pointers(overlapping));
  REQUIRE(changed);
  REQUIRE(changed->size() == 1);
  CHECK(changed->front().first == 3);
  REQUIRE(view->commit());
  CHECK(view->find("FN1")->version == 3);
}

TEST_CASE("a batch that does not follow on drops everything staged since the last commit") {
  test::TempDir dir;
  auto view = open_view(dir.sub("views"));
  std::vector<Event> committed = {status_changed(1, "FN1", "queued")};
  REQUIRE(view->apply_batch(committed));
  std::vector<Event> staged = {status_changed(2, "FN1", "ringing")};
  REQUIRE(view->stage(pointers(staged)));
  std::vector<Event> gap = {status_changed(5, "FN1", "completed")};
  auto failed = view->stage(pointers(gap));
  REQUIRE_FALSE(failed);
  CHECK(failed.status().to_string().find("was given seq 5") != std::string::npos);
  CHECK_FALSE(view->has_staged());
  CHECK(view->staged_through() == 1);  // back to the last commit: its projection re-reads from the log
  REQUIRE(view->stage(pointers(staged)));
  REQUIRE(view->commit());
  CHECK(view->find("FN1")->status == "ringing");
  CHECK(view->checkpoint() == 2);
}
