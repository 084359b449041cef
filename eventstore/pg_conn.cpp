#include "eventstore/pg_conn.hpp"

#include <cstdlib>
#include <cstring>

namespace voxlog::pg {

std::int64_t Rows::i64(int row, int col) const {
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

Conn& Conn::operator=(Conn&& other) noexcept {
  if (this != &other) {
    if (c_) PQfinish(c_);
    c_ = other.c_;
    other.c_ = nullptr;
    shown_ = std::move(other.shown_);
  }
  return *this;
}

Conn::~Conn() {
  if (c_) PQfinish(c_);
}

Result<Conn> Conn::connect(const std::string& url, const std::string& shown, const std::string& application) {
  // libpq applies keywords in order, the last value winning: defaults the URL may override come before
  // it, what the log relies on comes after it.
  const char* keys[] = {"connect_timeout",      "keepalives_idle",  "keepalives_interval",
                        "keepalives_count",     "application_name", "dbname",
                        "target_session_attrs", "client_encoding",  nullptr};
  const char* values[] = {"5",         "5",          "2",    "3",    application.c_str(),
                          url.c_str(), "read-write", "UTF8", nullptr};
  Conn conn;
  conn.shown_ = shown;
  conn.c_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn.c_) return unavailable("cannot connect to " + shown + ": out of memory");
  if (PQstatus(conn.c_) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn.c_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    // libpq's messages name hosts and users, never the password.
    return unavailable("cannot connect to " + shown + ": " + why);
  }
  // libpq prints the server's notices (a FATAL on a connection the server ends, say) on stderr; the
  // failure reaches the caller as a Status instead, which says which log it was.
  PQsetNoticeProcessor(
      conn.c_, [](void*, const char*) {}, nullptr);
  // Explicit per session: acknowledged means committed (and, with a synchronous standby, replicated);
  // every statement sees what committed before it (the log_head lock relies on it).
  auto set = conn.exec(
      "SET synchronous_commit = on; SET default_transaction_isolation = 'read committed';"
      " SET client_min_messages = warning",
      "session settings");
  if (!set) return set.status();
  auto encoding = conn.exec("SHOW server_encoding", "server encoding");
  if (!encoding) return encoding.status();
  if (encoding->text(0, 0) != "UTF8") {
    return failed_precondition("database at " + shown + " has encoding " + std::string(encoding->text(0, 0)) +
                               "; the log needs UTF8 (createdb -E UTF8)");
  }
  return conn;
}

Status Conn::error(const PGresult* r, const char* what) const {
  std::string message = std::string(what) + " on " + shown_ + ": ";
  if (!r || !c_ || PQstatus(c_) != CONNECTION_OK) {
    std::string why = c_ ? PQerrorMessage(c_) : "no connection";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return unavailable(message + "connection lost (" + why + ")");
  }
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  std::string code = state ? state : "";
  std::string why = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                        ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                        : PQresultErrorMessage(r);
  message += why + (code.empty() ? "" : " (SQLSTATE " + code + ")");
  std::string klass = code.substr(0, 2);
  if (code == "23505") return conflict(message);
  if (klass == "08" || klass == "57" || code == "40001" || code == "40P01" || code == "25006" ||
      code == "55P03" || code == "53300") {
    return unavailable(message);  // connection trouble, shutdown, standby, serialization: try again
  }
  if (klass == "53") return resource_exhausted(message);
  if (code == "XX001" || code == "XX002") return data_loss(message);
  if (klass == "22") return invalid_argument(message);
  return internal_error(message);
}

namespace {

Result<Rows> take(const Conn& conn, PGresult* raw, const char* what) {
  ExecStatusType st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Rows(raw);
  Status failure = conn.error(raw, what);
  if (raw) PQclear(raw);
  return failure;
}

}  // namespace

Result<Rows> Conn::exec(const std::string& sql, const char* what) {
  if (!c_) return unavailable(std::string(what) + " on " + shown_ + ": no connection");
  return take(*this, PQexec(c_, sql.c_str()), what);
}

Result<Rows> Conn::exec(const std::string& sql, const Params& params, const char* what) {
  if (!c_) return unavailable(std::string(what) + " on " + shown_ + ": no connection");
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return take(*this,
              PQexecParams(c_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                           nullptr, 0),
              what);
}

void ArrayLiteral::add(std::string_view text) {
  comma();
  out_ += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out_ += '\\';
    out_ += c;
  }
  out_ += '"';
}

void ArrayLiteral::add_null() {
  comma();
  out_ += "NULL";
}

void ArrayLiteral::add(std::uint64_t n) {
  comma();
  out_ += std::to_string(n);
}

void ArrayLiteral::add(std::int64_t n) {
  comma();
  out_ += std::to_string(n);
}

std::string ArrayLiteral::finish() && {
  out_ += '}';
  return std::move(out_);
}

}  // namespace voxlog::pg
