// PostgreSQL log reads: each is one statement (one snapshot) on a pooled reader connection; they never
// wait for the writer. A read bounded by voxlog.log_head sees every event up to it (they committed with
// it), so it sees the log without gaps even while other nodes append.
#include <limits>

#include "eventstore/data_json.hpp"
#include "eventstore/pg_store_impl.hpp"

namespace voxlog {

Status pg_event_from_row(const pg::Rows& rows, int row, Event* out) {
  out->seq = rows.u64(row, 0);
  out->stream.assign(rows.text(row, 1));
  out->version = rows.u64(row, 2);
  out->type.assign(rows.text(row, 3));
  out->v = static_cast<std::uint32_t>(rows.u64(row, 4));
  out->ts = rows.i64(row, 5);
  out->source.assign(rows.text(row, 6));
  if (rows.null(row, 7)) {
    out->dedupe.clear();
  } else {
    out->dedupe.assign(rows.text(row, 7));
  }
  if (!codec::parse_data_json(rows.text(row, 8), &out->data) || !out->data.is_object()) {
    return data_loss("event seq " + std::to_string(out->seq) + ": data is not a JSON object");
  }
  return Status::ok();
}

namespace {

Result<std::vector<Event>> events_of(const Result<pg::Rows>& rows) {
  if (!rows) return rows.status();
  std::vector<Event> events(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    if (Status st = pg_event_from_row(*rows, i, &events[static_cast<std::size_t>(i)]); !st) return st;
  }
  return events;
}

std::string limit_of(std::size_t limit) {
  constexpr std::size_t kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return std::to_string(limit > kMax ? kMax : limit);
}

}  // namespace

Result<std::vector<Event>> PgEventStore::read_all(std::uint64_t after_seq, std::size_t limit) const {
  if (limit == 0 || after_seq >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return std::vector<Event>{};
  auto conn = impl_->lease();
  if (!conn) return conn.status();
  return events_of((*conn)->exec(std::string("SELECT ") + kPgEventColumns +
                                     " FROM voxlog.events WHERE seq > $1 AND seq <= (SELECT last_seq FROM "
                                     "voxlog.log_head) ORDER BY seq LIMIT $2",
                                 {std::to_string(after_seq), limit_of(limit)}, "read the log"));
}

Result<std::vector<Event>> PgEventStore::read_stream(const std::string& stream, std::uint64_t from_version,
                                                     std::size_t limit) const {
  if (limit == 0) return std::vector<Event>{};
  auto conn = impl_->lease();
  if (!conn) return conn.status();
  return events_of(
      (*conn)->exec(std::string("SELECT ") + kPgEventColumns +
                        " FROM voxlog.events WHERE stream = $1 AND version >= $2 ORDER BY version "
                        "LIMIT $3",
                    {stream, std::to_string(from_version), limit_of(limit)}, "read a stream"));
}

Result<std::optional<AppendResult>> PgEventStore::find_dedupe(const std::string& key) const {
  if (key.empty() || key.size() > 256) return std::optional<AppendResult>{};
  auto conn = impl_->lease();
  if (!conn) return conn.status();
  auto rows = (*conn)->exec("SELECT first_seq, last_seq, stream_version FROM voxlog.dedupe WHERE key = $1",
                            {key}, "find a dedupe key");
  if (!rows) {
    // A key that is not UTF-8 cannot be in the log (appends refuse it).
    if (rows.status().code() == StatusCode::invalid_argument) return std::optional<AppendResult>{};
    return rows.status();
  }
  if (rows->size() == 0) return std::optional<AppendResult>{};
  return std::optional<AppendResult>(AppendResult{rows->u64(0, 0), rows->u64(0, 1), rows->u64(0, 2), true});
}

Status PgEventStore::scan(std::uint64_t after_seq, const std::function<bool(const Event&)>& fn) const {
  if (after_seq >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return Status::ok();
  // Pages up to the head as it was when the scan began: the same events one snapshot would show, without
  // holding a transaction (or a connection) open while fn runs.
  std::uint64_t through;
  {
    auto conn = impl_->lease();
    if (!conn) return conn.status();
    auto head = (*conn)->exec("SELECT last_seq FROM voxlog.log_head", "log head");
    if (!head) return head.status();
    through = head->u64(0, 0);
  }
  std::size_t page = 256;
  for (std::uint64_t after = after_seq; after < through;) {
    Result<std::vector<Event>> events = std::vector<Event>{};
    {
      auto conn = impl_->lease();
      if (!conn) return conn.status();
      events = events_of((*conn)->exec(
          std::string("SELECT ") + kPgEventColumns +
              " FROM voxlog.events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
          {std::to_string(after), std::to_string(through), std::to_string(page)}, "scan the log"));
    }
    if (!events) return events.status();
    if (events->empty())
      return data_loss("events after seq " + std::to_string(after) + " up to the head are missing");
    for (const Event& e : *events) {
      if (e.seq != after + 1)
        return data_loss("seq gap: expected seq " + std::to_string(after + 1) + ", found " +
                         std::to_string(e.seq));
      after = e.seq;
      if (!fn(e)) return Status::ok();
    }
    page = std::min<std::size_t>(page * 2, 8192);
  }
  return Status::ok();
}

Result<std::uint64_t> PgEventStore::stream_version(const std::string& stream) const {
  auto conn = impl_->lease();
  if (!conn) return conn.status();
  auto rows = (*conn)->exec("SELECT coalesce(max(version), 0) FROM voxlog.events WHERE stream = $1", {stream},
                            "stream version");
  if (!rows) return rows.status();
  return rows->u64(0, 0);
}

Result<StoreStats> PgEventStore::stats() const {
  auto conn = impl_->lease();
  if (!conn) return conn.status();
  auto rows = (*conn)->exec("SELECT last_seq, streams, dedupe_keys FROM voxlog.log_head", "stats");
  if (!rows) return rows.status();
  StoreStats s;
  s.events = rows->u64(0, 0);
  s.streams = rows->u64(0, 1);
  s.dedupe_keys = rows->u64(0, 2);
  s.commits = impl_->commits.load();
  return s;
}

}  // namespace voxlog
