// PgEventStore::Impl: the state shared by the PostgreSQL log's translation units (pg_store.cpp: open and
// the read pool; pg_writer.cpp: the writer; pg_publisher.cpp: answers and the tail; pg_read.cpp: reads,
// stats, verify). The append queue, the threads' hand-over and the subscribers are StoreCore's
// (store_core.hpp). SQL.md is the schema.
//
// Contract: private to eventstore/. The writer thread alone uses `writer_conn`, the publisher thread
// alone `listen_conn`; readers borrow from `pool`. `in_flight_first` (guarded by written_mu) is the first
// seq of the batch this node is committing right now (0: none): the publisher publishes nothing from it
// on until that batch has been handed over and answered.
//
// Thread-safety: fields are guarded as commented; everything else is set in open() and then immutable.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "eventstore/pg_conn.hpp"
#include "eventstore/pg_store.hpp"
#include "eventstore/store_core.hpp"

namespace voxlog {

// The columns every event query selects, in Event's order.
inline constexpr const char* kPgEventColumns = "seq, stream, version, type, v, ts, source, dedupe, data";

// The queue, threads, subscribers and last write's outcome are StoreCore's (store_core.hpp).
struct PgEventStore::Impl : StoreCore {
  std::string url;    // secret: holds the password, if any
  std::string shown;  // the redacted URL, for messages

  std::atomic<std::uint64_t> known_last_seq{0};  // highest seq committed here or published

  pg::Conn writer_conn;  // writer only

  std::uint64_t in_flight_first = 0;  // guarded by written_mu
  int wake_pipe[2] = {-1, -1};        // the writer (and the destructor) wake the publisher through it
  pg::Conn listen_conn;               // publisher only
  std::uint64_t published_through;    // publisher only: every event up to it went to the subscribers

  mutable std::mutex pool_mu;
  mutable std::vector<pg::Conn> pool;  // guarded by pool_mu: idle reader connections

  ~Impl();

  // A reader connection for the life of the lease; back to the pool after, unless it broke.
  class Lease {
   public:
    Lease(const Impl* impl, pg::Conn conn) : impl_(impl), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    pg::Conn& operator*() { return conn_; }
    pg::Conn* operator->() { return &conn_; }

   private:
    const Impl* impl_;
    pg::Conn conn_;
  };
  Result<Lease> lease() const;

  void wake_publisher();

  // Writer side (pg_writer.cpp).
  void writer_loop();
  WrittenBatch commit_batch(std::vector<PendingAppend> batch);
  Status write_batch(std::vector<PendingAppend>& batch, std::vector<Result<AppendResult>>* answers,
                     bool* commit_sent, std::size_t* events_written);

  // Publisher side (pg_publisher.cpp).
  void publisher_loop();
  // Reads what follows published_through and publishes it, up to (not including) `limit_seq`; true when
  // more may be waiting (a full page).
  Result<bool> publish_tail(std::uint64_t limit_seq);
};

// Reads one event row of the kPgEventColumns shape.
Status pg_event_from_row(const pg::Rows& rows, int row, Event* out);

// Creates the voxlog schema if the database has none; checks it otherwise (pg_schema.cpp).
Status pg_prepare_schema(pg::Conn& conn, const std::string& shown, bool create);

}  // namespace voxlog
