// LogAndView: an empty LMDB log and an empty Call view in a temporary directory, for tests that drive
// actors or routes against the real stores.
//
// Contract: for tests only. The constructor REQUIREs that both open; a fixture derives from it (or holds
// it first) so that the stores outlive whatever it spawns on them and the directory outlives the stores.
// Thread-safety: one owner; the stores themselves are as their headers say.
#pragma once

#include <memory>

#include <catch2/catch.hpp>

#include "eventstore/store.hpp"
#include "projections/calls_view.hpp"
#include "tests/eventstore/temp_dir.hpp"

namespace voxlog::test {

struct LogAndView {
  TempDir dir;
  std::unique_ptr<EventStore> store;
  std::unique_ptr<CallsView> view;

  LogAndView() {
    auto s = EventStore::open(dir.sub("log"));
    REQUIRE(s);
    store = std::move(*s);
    auto v = CallsView::open(dir.sub("views"));
    REQUIRE(v);
    view = std::move(*v);
  }
};

}  // namespace voxlog::test
