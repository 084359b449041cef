// The PostgreSQL log's schema (SQL.md): created in one transaction, under an advisory lock so that nodes
// starting together do not race, or checked when it is there.
#include "eventstore/pg_store_impl.hpp"

namespace voxlog {

namespace {

constexpr const char* kMagic = "voxlog-eventstore";
constexpr const char* kFormat = "1";

// Keep in step with SQL.md.
constexpr const char* kCreate = R"sql(
CREATE SCHEMA IF NOT EXISTS voxlog;
CREATE TABLE voxlog.meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE voxlog.log_head (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  last_seq    bigint NOT NULL CHECK (last_seq >= 0),
  streams     bigint NOT NULL CHECK (streams >= 0),
  dedupe_keys bigint NOT NULL CHECK (dedupe_keys >= 0)
);
CREATE TABLE voxlog.events (
  seq     bigint PRIMARY KEY CHECK (seq >= 1),
  stream  text   NOT NULL CHECK (octet_length(stream) BETWEEN 1 AND 256),
  version bigint NOT NULL CHECK (version >= 1),
  type    text   NOT NULL CHECK (octet_length(type) BETWEEN 1 AND 128),
  v       bigint NOT NULL CHECK (v BETWEEN 0 AND 4294967295),
  ts      bigint NOT NULL,
  source  text   NOT NULL CHECK (octet_length(source) BETWEEN 1 AND 64),
  dedupe  text   CHECK (octet_length(dedupe) BETWEEN 1 AND 256),
  data    json   NOT NULL,
  CONSTRAINT events_stream_version UNIQUE (stream, version)
);
CREATE TABLE voxlog.dedupe (
  key            text PRIMARY KEY CHECK (octet_length(key) BETWEEN 1 AND 256),
  first_seq      bigint NOT NULL CHECK (first_seq >= 1),
  last_seq       bigint NOT NULL CHECK (last_seq >= first_seq),
  stream_version bigint NOT NULL CHECK (stream_version >= 1)
);
INSERT INTO voxlog.log_head (id, last_seq, streams, dedupe_keys) VALUES (true, 0, 0, 0);
)sql";

}  // namespace

Status pg_prepare_schema(pg::Conn& conn, const std::string& shown, bool create) {
  // 0x766f786c6f67 is "voxlog": one lock id for every node's schema check.
  auto begin = conn.exec("BEGIN; SELECT pg_advisory_xact_lock(130189944811367)", "schema lock");
  if (!begin) return begin.status();
  auto finish = [&](Status st) {
    auto end = conn.exec(st ? "COMMIT" : "ROLLBACK", "schema commit");
    if (st && !end) return end.status();
    return st;
  };
  auto found = conn.exec(
      "SELECT to_regclass('voxlog.meta') IS NOT NULL,"
      " (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      "  WHERE n.nspname = 'voxlog')",
      "schema check");
  if (!found) return finish(found.status());
  bool has_meta = found->text(0, 0) == "t";
  if (!has_meta) {
    if (found->i64(0, 1) != 0) {
      return finish(failed_precondition("database at " + shown +
                                        " has a 'voxlog' schema that is not a voxlog log (no voxlog.meta); "
                                        "refusing to use it"));
    }
    if (!create) return finish(not_found("no voxlog log in the database at " + shown));
    std::string sql = std::string(kCreate) + "INSERT INTO voxlog.meta VALUES ('magic', '" + kMagic +
                      "'), ('format', '" + kFormat + "');";
    if (auto made = conn.exec(sql, "schema creation"); !made) return finish(made.status());
    return finish(Status::ok());
  }
  auto meta = conn.exec(
      "SELECT (SELECT value FROM voxlog.meta WHERE key = 'magic'),"
      " (SELECT value FROM voxlog.meta WHERE key = 'format')",
      "schema meta");
  if (!meta) return finish(meta.status());
  if (meta->null(0, 0) || meta->text(0, 0) != kMagic) {
    return finish(
        failed_precondition("database at " + shown +
                            " has voxlog.meta without the voxlog event store magic; refusing to use it"));
  }
  if (meta->null(0, 1) || meta->text(0, 1) != kFormat) {
    return finish(
        failed_precondition("the log at " + shown + " has format " +
                            (meta->null(0, 1) ? std::string("(none)") : std::string(meta->text(0, 1))) +
                            "; this build reads format " + kFormat));
  }
  return finish(Status::ok());
}

}  // namespace voxlog
