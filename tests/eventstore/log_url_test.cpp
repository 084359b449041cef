// LOG_URL: which backend it names, and its redaction (no password in logs, errors or metrics).
#include <catch2/catch.hpp>

#include "eventstore/log_url.hpp"
#include "eventstore/store.hpp"

using namespace voxlog;

TEST_CASE("LOG_URL names LMDB when empty and PostgreSQL by its two schemes", "[eventstore]") {
  CHECK(*log_url::backend_of("") == log_url::Backend::lmdb);
  CHECK(*log_url::backend_of("postgresql://db1,db2/voxlog") == log_url::Backend::postgresql);
  CHECK(*log_url::backend_of("postgres://localhost/voxlog") == log_url::Backend::postgresql);
  auto mysql = log_url::backend_of("mysql://root:hunter2@db/voxlog");
  REQUIRE_FALSE(mysql.is_ok());
  CHECK(mysql.status().code() == StatusCode::invalid_argument);
  CHECK(mysql.status().message().find("'mysql'") != std::string::npos);
  CHECK(mysql.status().message().find("hunter2") == std::string::npos);
  auto bare = log_url::backend_of("host=db password=hunter2");
  REQUIRE_FALSE(bare.is_ok());
  CHECK(bare.status().message().find("hunter2") == std::string::npos);
}

TEST_CASE("redact hides every password and keeps the rest", "[eventstore]") {
  CHECK(log_url::redact("postgresql://app:s3cret@db1:5432,db2:5433/voxlog?target_session_attrs=read-write") ==
        "postgresql://app:***@db1:5432,db2:5433/voxlog?target_session_attrs=read-write");
  CHECK(log_url::redact("postgresql://app@db/voxlog") == "postgresql://app@db/voxlog");
  CHECK(log_url::redact("postgresql://db/voxlog?user=app&password=s3cret&sslmode=require") ==
        "postgresql://db/voxlog?user=app&password=***&sslmode=require");
  CHECK(log_url::redact("postgresql://db/voxlog?PASSWORD=s3cret") == "postgresql://db/voxlog?PASSWORD=***");
  CHECK(log_url::redact("postgresql://app:p@ss@db/x") == "postgresql://app:***@db/x");
  CHECK(log_url::redact("postgresql://db") == "postgresql://db");
}

TEST_CASE("open_url refuses an unknown scheme before touching anything", "[eventstore]") {
  auto r = EventStore::open_url("sqlite:///tmp/x.db", "/nonexistent/never-created");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::invalid_argument);
}

#ifndef VOXLOG_WITH_POSTGRES
TEST_CASE("a build without libpq refuses a PostgreSQL LOG_URL clearly", "[eventstore]") {
  auto r = EventStore::open_url("postgresql://app:pw-secret@db/voxlog", "/nonexistent/never-created");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::failed_precondition);
  CHECK(r.status().message().find("libpq-dev") != std::string::npos);
  CHECK(r.status().message().find("pw-secret") == std::string::npos);
}
#endif
