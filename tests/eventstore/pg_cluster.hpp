// PgCluster: a PostgreSQL server of the tests' own: initdb into a temporary directory, started on a free
// loopback port (fsync on), stopped and deleted when the object goes, and by a watchdog process if the
// test process dies first (a crash, an abort, a ctest timeout).
//
// Contract: for tests only. The server binaries come from $VOXLOG_PG_BIN, else the newest
// /usr/lib/postgresql/*/bin (Debian's postgresql-15). As root (postgres refuses to run as root) the server
// runs as the `postgres` user (or `nobody`). Authentication is trust, for user `voxlog`, on 127.0.0.1 only.
// shared() starts one cluster per process on first use and stops it at exit.
//
// Thread-safety: start() and the destructor on one thread; url() and create_database() from any.
#pragma once

#include <memory>
#include <string>

#include "eventstore/status.hpp"

namespace voxlog::test {

class PgCluster {
 public:
  static Result<std::unique_ptr<PgCluster>> start();
  static PgCluster& shared();  // REQUIREs (Catch) that the cluster started
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& database) const;
  // A new empty UTF8 database; its name is returned.
  Result<std::string> create_database();
  // Runs one SQL statement as the superuser on `database` (for tests that break things on purpose).
  Status exec(const std::string& database, const std::string& sql);

 private:
  PgCluster() = default;
  std::string dir_, bin_, as_user_;  // as_user_: "runuser -u postgres -- " when root, else empty
  int port_ = 0;
  int watchdog_fd_ = -1;  // the write end of the watchdog's pipe: closing it (or dying) wakes the watchdog
  bool started_ = false;
};

}  // namespace voxlog::test
