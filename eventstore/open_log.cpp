// EventStore::open and open_url: which backend a log is on.
#include "eventstore/lmdb_store.hpp"
#include "eventstore/log_url.hpp"
#ifdef VOXLOG_WITH_POSTGRES
#include "eventstore/pg_store.hpp"
#endif

namespace voxlog {

Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& dir, StoreOptions options) {
  return LmdbEventStore::open(dir, options);
}

Result<std::unique_ptr<EventStore>> EventStore::open_url(const std::string& log_url,
                                                         const std::string& lmdb_dir, StoreOptions options) {
  auto backend = log_url::backend_of(log_url);
  if (!backend) return backend.status();
  if (*backend == log_url::Backend::lmdb) return LmdbEventStore::open(lmdb_dir, options);
#ifdef VOXLOG_WITH_POSTGRES
  return PgEventStore::open(log_url, options);
#else
  return failed_precondition(
      "LOG_URL names a PostgreSQL log (" + log_url::redact(log_url) +
      "), but this build has no PostgreSQL support: install libpq-dev and build again");
#endif
}

}  // namespace voxlog
