#include "tests/eventstore/test_log.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>

#ifdef VOXLOG_WITH_POSTGRES
#include "tests/eventstore/pg_cluster.hpp"
#endif

namespace voxlog::test {

bool TestLog::postgres() {
  const char* backend = std::getenv("VOXLOG_TEST_BACKEND");
  return backend && std::strcmp(backend, "postgres") == 0;
}

TestLog::TestLog() {
  if (!postgres()) return;
#ifdef VOXLOG_WITH_POSTGRES
  auto db = PgCluster::shared().create_database();
  INFO(db.status().to_string());
  REQUIRE(db.is_ok());
  url_ = PgCluster::shared().url(*db);
#else
  FAIL("VOXLOG_TEST_BACKEND=postgres, but this build has no PostgreSQL support");
#endif
}

Result<std::unique_ptr<EventStore>> TestLog::try_open(StoreOptions options) const {
  return EventStore::open_url(url_, dir_.path(), options);
}

std::unique_ptr<EventStore> TestLog::open(StoreOptions options) const {
  auto store = try_open(options);
  INFO(store.status().to_string());
  REQUIRE(store.is_ok());
  return std::move(store).value();
}

AppendRequest happened(const std::string& stream, int events, std::string dedupe,
                       std::optional<std::uint64_t> expected) {
  AppendRequest r;
  r.stream = stream;
  for (int i = 0; i < events; ++i) r.events.push_back(NewEvent{"Happened", {{"i", i}, {"key", dedupe}}, 1});
  r.dedupe = std::move(dedupe);
  r.expected_version = expected;
  r.source = source::api;
  return r;
}

}  // namespace voxlog::test
