// EventStore: voxlog's append-only event log, behind one interface with two backends: LMDB (the default,
// one machine; lmdb_store.hpp, FORMAT.md) and PostgreSQL (a log shared by several nodes; pg_store.hpp,
// SQL.md). open() opens LMDB in a directory; open_url() picks the backend from LOG_URL.
//
// Contract (both backends):
// - Appends go through one writer thread per store (per node), which takes everything pending and
//   commits it in ONE transaction (group commit), durably, before anyone is answered. A publisher thread
//   then answers every appender of that commit and publishes committed events to subscribers, in seq
//   order, while the writer goes on with the next transaction. Seq numbers are dense from 1.
// - An AppendRequest writes 1..n events to one stream atomically. With `expected_version` the stream must
//   be exactly at that version (0: the stream must not exist yet), else the answer is StatusCode::conflict
//   and nothing is written. With a `dedupe` key that was seen before, nothing is written and the answer
//   carries the ORIGINAL seq range with `duplicate = true`.
// - A failed commit writes nothing. The answer's code says whether to retry: resource_exhausted (disk or
//   map full), unavailable (the disk failed, the database connection was lost: after a lost COMMIT the
//   outcome is unknown, so retry with the same dedupe key).
// - Reads may run on any thread, concurrently with appends, and never wait for the writer.
//
// Thread-safety: every public member may be called from any thread. Append callbacks and subscriber
// callbacks run on the publisher thread: they must be quick and must not call append_sync().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/event.hpp"
#include "eventstore/leadership.hpp"
#include "eventstore/status.hpp"

namespace voxlog {

struct AppendRequest {
  std::string stream;
  std::vector<NewEvent> events;                   // at least one
  std::optional<std::uint64_t> expected_version;  // none: append whatever the stream's version
  std::string dedupe;                             // optional idempotency key
  std::string source = source::system;
  std::int64_t ts = 0;  // receive time; 0: the store stamps now_ms()
};

struct AppendResult {
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t stream_version = 0;  // the stream's version after (or, if duplicate, at) this append
  bool duplicate = false;
};

struct StoreOptions {
  std::size_t initial_map_size = std::size_t{1} << 30;  // grows by doubling when full
  std::size_t max_batch = 4096;                         // events per write transaction, at most
  // The newest events' streams/dedupe entries are written in bulk once this many have gathered; reads
  // scan that many events at most to complete the indexes (store_index.hpp).
  std::size_t index_batch = 1024;
  // Growth stops here: an append that needs more fails with resource_exhausted ("map full").
  std::size_t max_map_size = std::size_t{1} << 40;
  // For tools that only look (voxlog events/verify/stats): no writer thread, appends fail with
  // failed_precondition, and a missing store is not_found instead of being created.
  bool read_only = false;
  // PostgreSQL only: how often a node looks for other nodes' commits when no NOTIFY wakes it (NOTIFY is a
  // wake-up, not a guarantee), and whether to LISTEN at all (off: polling alone, as tests prove enough).
  int pg_poll_ms = 200;
  bool pg_listen = true;
};

struct StoreStats {
  std::uint64_t events = 0;
  std::uint64_t streams = 0;
  std::uint64_t dedupe_keys = 0;
  // LMDB only (0 on PostgreSQL):
  std::uint64_t indexed_through = 0;  // events after this seq are not in the streams/dedupe DBIs yet
  std::uint64_t file_bytes = 0;       // data.mdb size on disk
  std::uint64_t map_bytes = 0;
  std::uint64_t commits = 0;  // write transactions since open (this node's)
};

// What the writer did in one commit; for metrics.
struct CommitInfo {
  std::size_t requests = 0;
  std::size_t events = 0;
  double seconds = 0;  // from transaction begin to durable commit
};

class EventStore {
 public:
  using AppendCallback = std::function<void(const Result<AppendResult>&)>;
  using Subscriber = std::function<void(const std::shared_ptr<const std::vector<Event>>& committed)>;
  using CommitObserver = std::function<void(const CommitInfo&)>;

  // Opens (creating if missing or empty) the LMDB store in `dir` (lmdb_store.hpp).
  static Result<std::unique_ptr<EventStore>> open(const std::string& dir, StoreOptions options = {});
  // Opens the log that `log_url` names (Config's LOG_URL): empty, the LMDB store in `lmdb_dir`;
  // postgresql://... (or postgres://), the PostgreSQL log (created if the database has none). Any other
  // scheme, or PostgreSQL in a build without libpq, is invalid_argument / failed_precondition. Messages
  // never carry the URL's password (log_url.hpp).
  static Result<std::unique_ptr<EventStore>> open_url(const std::string& log_url, const std::string& lmdb_dir,
                                                      StoreOptions options = {});
  virtual ~EventStore() = default;  // drains pending appends, then stops the writer

  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  virtual void append(AppendRequest request, AppendCallback done) = 0;
  virtual Result<AppendResult> append_sync(AppendRequest request) = 0;

  // Called after every commit, in seq order, with the events of that commit. Returns an id for unsubscribe.
  // A subscriber sees only commits made after subscribe() returns. To follow the log from a checkpoint
  // without a gap: subscribe first (buffering), then read_all() from the checkpoint until caught up, and
  // drop buffered events whose seq was already read. (PostgreSQL: every node's subscribers see every
  // node's commits, in seq order, in batches that need not match commits.)
  virtual std::uint64_t subscribe(Subscriber subscriber) = 0;
  // When it returns (off the publisher thread), the subscriber is not running and is never called again, so
  // what it captured may be destroyed. Called from a subscriber, it takes effect after the current commit.
  virtual void unsubscribe(std::uint64_t id) = 0;
  virtual void on_commit(CommitObserver observer) = 0;  // one observer; for metrics (this node's commits)

  // Reads.
  virtual Result<std::vector<Event>> read_all(std::uint64_t after_seq, std::size_t limit) const = 0;
  virtual Result<std::vector<Event>> read_stream(const std::string& stream, std::uint64_t from_version,
                                                 std::size_t limit) const = 0;
  virtual Result<std::optional<AppendResult>> find_dedupe(const std::string& key) const = 0;
  // Calls fn for each event with seq > after_seq in order, as of one snapshot, until fn returns false.
  // fn may append (LMDB: an append that must grow the map waits until every open read, this one too, ends).
  virtual Status scan(std::uint64_t after_seq, const std::function<bool(const Event&)>& fn) const = 0;
  // Highest committed seq this store knows of (0 when empty); never waits for I/O on a writable store.
  virtual std::uint64_t last_seq() const = 0;
  // How the latest write transaction ended: ok, or why it committed nothing (the log is full, the disk
  // failed, the database is unreachable). A health check reads it: it stays not-ok until a later write
  // succeeds and 10 s have passed since the last failure.
  virtual Status last_write_status() const = 0;
  virtual Result<std::uint64_t> stream_version(const std::string& stream) const = 0;  // 0 when absent
  virtual Result<StoreStats> stats() const = 0;

  // Checks every invariant of FORMAT.md (LMDB) or SQL.md (PostgreSQL). ok, or data_loss naming the first
  // violation.
  virtual Status verify() const = 0;

  // Where the log is, safe to print: the directory, or the URL without its password.
  virtual std::string describe() const = 0;

  // A claim named `name` that one node at a time holds among the nodes sharing this log (leadership.hpp).
  // The default, for a log only one node can open, is always held.
  virtual std::unique_ptr<Leadership> leadership(const std::string& name) const {
    (void)name;
    return std::make_unique<SoleLeadership>();
  }

 protected:
  EventStore() = default;
};

}  // namespace voxlog
