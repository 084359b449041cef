// TestLog: an empty log for one test, on the backend under test: LMDB in a temporary directory (the
// default), or a new database in the process's own PostgreSQL cluster when VOXLOG_TEST_BACKEND=postgres
// (ctest runs the backend suite both ways; tests/eventstore/CMakeLists.txt).
//
// Contract: for tests only. open() opens a store on the log (again: a reopen, or another node on the same
// PostgreSQL log) and REQUIREs success; try_open() hands back the Result.
// happened() builds the plain request the PostgreSQL tests append: `events` "Happened" events (data: their
// index and the dedupe key), source api.
// Thread-safety: open() from any thread; one owner. happened() is pure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "eventstore/store.hpp"
#include "tests/eventstore/temp_dir.hpp"

namespace voxlog::test {

class TestLog {
 public:
  TestLog();
  static bool postgres();  // the backend under test is PostgreSQL
  static const char* backend() { return postgres() ? "postgres" : "lmdb"; }

  Result<std::unique_ptr<EventStore>> try_open(StoreOptions options = {}) const;
  std::unique_ptr<EventStore> open(StoreOptions options = {}) const;
  const std::string& url() const { return url_; }         // PostgreSQL: the log's URL; LMDB: empty
  const std::string& dir() const { return dir_.path(); }  // LMDB: the store's directory

 private:
  TempDir dir_;
  std::string url_;
};

AppendRequest happened(const std::string& stream, int events, std::string dedupe = {},
                       std::optional<std::uint64_t> expected = std::nullopt);

}  // namespace voxlog::test
