// PgEventStore::verify(): the invariants of SQL.md, checked in one read-only snapshot; the first
// violation is named as data_loss.
#include "eventstore/pg_store_impl.hpp"

namespace voxlog {

namespace {

struct Check {
  const char* sql;  // at most one row: the first violation; none when the invariant holds
  std::string (*explain)(const pg::Rows& rows);
};

std::string col(const pg::Rows& rows, int c) {
  return rows.null(0, c) ? std::string("NULL") : std::string(rows.text(0, c));
}

const Check kChecks[] = {
    {"SELECT count(*) FROM voxlog.log_head HAVING count(*) <> 1",
     [](const pg::Rows& r) { return "voxlog.log_head holds " + col(r, 0) + " rows, not 1"; }},
    {"SELECT seq FROM voxlog.events WHERE seq > (SELECT last_seq FROM voxlog.log_head) ORDER BY seq LIMIT 1",
     [](const pg::Rows& r) { return "event seq " + col(r, 0) + " is past log_head.last_seq"; }},
    {"SELECT prev + 1, seq FROM (SELECT seq, lag(seq, 1, 0::bigint) OVER (ORDER BY seq) AS prev"
     " FROM voxlog.events) t WHERE seq <> prev + 1 ORDER BY seq LIMIT 1",
     [](const pg::Rows& r) { return "seq gap: expected seq " + col(r, 0) + ", found " + col(r, 1); }},
    {"SELECT h.last_seq, (SELECT coalesce(max(seq), 0) FROM voxlog.events) FROM voxlog.log_head h"
     " WHERE h.last_seq <> (SELECT coalesce(max(seq), 0) FROM voxlog.events)",
     [](const pg::Rows& r) {
       return "log_head.last_seq is " + col(r, 0) + " but the last event is " + col(r, 1);
     }},
    // Each stream's versions, taken in seq order, are 1, 2, 3, ...: dense and in the order they were
    // appended.
    {"SELECT seq, stream, version, prev FROM (SELECT seq, stream, version,"
     " lag(version, 1, 0::bigint) OVER (PARTITION BY stream ORDER BY seq) AS prev FROM voxlog.events) t"
     " WHERE version <> prev + 1 ORDER BY seq LIMIT 1",
     [](const pg::Rows& r) {
       return "event seq " + col(r, 0) + " (" + col(r, 1) + " v" + col(r, 2) + "): follows version " +
              col(r, 3) + " of its stream";
     }},
    {"SELECT seq FROM voxlog.events WHERE json_typeof(data) <> 'object' ORDER BY seq LIMIT 1",
     [](const pg::Rows& r) { return "event seq " + col(r, 0) + ": data is not a JSON object"; }},
    {"SELECT d.key, d.first_seq, d.last_seq FROM voxlog.dedupe d"
     " LEFT JOIN voxlog.events f ON f.seq = d.first_seq LEFT JOIN voxlog.events l ON l.seq = d.last_seq"
     " WHERE f.seq IS NULL OR l.seq IS NULL OR f.dedupe IS DISTINCT FROM d.key"
     " OR l.dedupe IS DISTINCT FROM d.key OR f.stream <> l.stream OR l.version <> d.stream_version"
     " ORDER BY d.first_seq LIMIT 1",
     [](const pg::Rows& r) {
       return "dedupe entry '" + col(r, 0) + "' (seq " + col(r, 1) + " to " + col(r, 2) +
              ") does not match the events it names";
     }},
    {"SELECT e.seq, e.dedupe FROM voxlog.events e LEFT JOIN voxlog.dedupe d ON d.key = e.dedupe"
     " WHERE e.dedupe IS NOT NULL AND (d.key IS NULL OR e.seq NOT BETWEEN d.first_seq AND d.last_seq)"
     " ORDER BY e.seq LIMIT 1",
     [](const pg::Rows& r) {
       return "event seq " + col(r, 0) + ": its dedupe key '" + col(r, 1) + "' has no entry covering it";
     }},
    {"SELECT h.streams, (SELECT count(*) FROM voxlog.events WHERE version = 1) FROM voxlog.log_head h"
     " WHERE h.streams <> (SELECT count(*) FROM voxlog.events WHERE version = 1)",
     [](const pg::Rows& r) { return "log_head.streams is " + col(r, 0) + " but the log has " + col(r, 1); }},
    {"SELECT h.dedupe_keys, (SELECT count(*) FROM voxlog.dedupe) FROM voxlog.log_head h"
     " WHERE h.dedupe_keys <> (SELECT count(*) FROM voxlog.dedupe)",
     [](const pg::Rows& r) {
       return "log_head.dedupe_keys is " + col(r, 0) + " but there are " + col(r, 1);
     }},
};

}  // namespace

Status PgEventStore::verify() const {
  auto conn = impl_->lease();
  if (!conn) return conn.status();
  if (auto begin = (*conn)->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "verify"); !begin) {
    return begin.status();
  }
  Status outcome;
  for (const Check& check : kChecks) {
    auto rows = (*conn)->exec(check.sql, "verify");
    if (!rows) {
      outcome = rows.status();
      break;
    }
    if (rows->size() > 0) {
      outcome = data_loss(check.explain(*rows));
      break;
    }
  }
  (*conn)->exec("ROLLBACK", "verify");
  return outcome;
}

}  // namespace voxlog
