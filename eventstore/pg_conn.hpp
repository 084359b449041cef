// pg::Conn: one libpq connection with RAII, statements that answer Result<pg::Rows>, and libpq's errors
// mapped onto voxlog's Status codes (what a caller may retry).
//
// Contract: private to eventstore/ (the PostgreSQL log). connect() takes the LOG_URL and adds what the
// log relies on: target_session_attrs=read-write (of several hosts, the primary), synchronous_commit=on
// and read committed set explicitly on the session (a server default cannot weaken them), UTF-8, short
// connect and keepalive timeouts (a dead primary is noticed in seconds). Error messages name the
// redacted URL, never a password. Codes: a lost or refused connection, a server shutting down or in
// recovery, a serialization failure: unavailable (retry); a unique violation: conflict; disk full:
// resource_exhausted; corrupt data: data_loss; anything else: internal.
//
// Thread-safety: a Conn is used by one thread at a time; Rows is a plain value.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/status.hpp"

namespace voxlog::pg {

// A query's rows (a PGresult), read as text.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return PQntuples(r_.get()); }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
  std::string_view text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::int64_t i64(int row, int col) const;
  std::uint64_t u64(int row, int col) const { return static_cast<std::uint64_t>(i64(row, col)); }
  std::string_view command() const { return PQcmdStatus(r_.get()); }  // "COMMIT", "ROLLBACK", ...

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

// Statement parameters in text format; nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

class Conn {
 public:
  // `url` is LOG_URL; `shown` its redacted form, for messages. `application` names the connection in
  // pg_stat_activity ("voxlog writer").
  static Result<Conn> connect(const std::string& url, const std::string& shown,
                              const std::string& application);
  Conn() = default;
  Conn(Conn&& other) noexcept : c_(other.c_), shown_(std::move(other.shown_)) { other.c_ = nullptr; }
  Conn& operator=(Conn&& other) noexcept;
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // False once the connection is lost: drop it and connect again.
  bool usable() const { return c_ && PQstatus(c_) == CONNECTION_OK; }
  PGconn* get() const { return c_; }

  // One or more statements without parameters (simple protocol); the last one's rows.
  Result<Rows> exec(const std::string& sql, const char* what);
  // One statement with text parameters.
  Result<Rows> exec(const std::string& sql, const Params& params, const char* what);

  // The Status for a failed result (or a null one: the connection is gone).
  Status error(const PGresult* r, const char* what) const;

 private:
  PGconn* c_ = nullptr;
  std::string shown_;
};

// A text[] / bigint[] literal ("{...}") for an array parameter: every element quoted and escaped
// (NULL for nullopt), so any UTF-8 text without NUL round-trips.
class ArrayLiteral {
 public:
  ArrayLiteral() { out_ = "{"; }
  void add(std::string_view text);
  void add_null();
  void add(std::uint64_t n);
  void add(std::int64_t n);
  std::string finish() &&;

 private:
  void comma() {
    if (out_.size() > 1) out_ += ',';
  }
  std::string out_;
};

}  // namespace voxlog::pg
