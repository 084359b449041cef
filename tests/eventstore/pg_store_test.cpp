// The PostgreSQL log beyond the shared backend suite: several stores ("nodes", each its own connections)
// racing on one database, lost connections, a unique violation that must not be swallowed, schema
// checks, the BIGSERIAL trap. Run by the PostgreSQL ctest entry only (tag [postgres]); each test gets a new
// database. The programs (voxlogd, voxlog) on the SQL log: pg_programs_test.cpp.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "eventstore/pg_conn.hpp"
#include "eventstore/store.hpp"
#include "tests/eventstore/cut_proxy.hpp"
#include "tests/eventstore/pg_cluster.hpp"
#include "tests/eventstore/test_log.hpp"

using namespace voxlog;
using voxlog::test::happened;
using voxlog::test::PgCluster;
using voxlog::test::TestLog;

namespace {

// What one node's subscriber saw.
struct Follower {
  std::mutex mu;
  std::vector<std::uint64_t> seqs;
  std::uint64_t last() {
    std::lock_guard<std::mutex> lock(mu);
    return seqs.empty() ? 0 : seqs.back();
  }
};

std::string database_of(const std::string& url) {
  return url.substr(url.rfind('/') + 1);
}

}  // namespace

TEST_CASE("appenders racing on three nodes get dense seqs, committed in order, each seen by every node",
          "[postgres]") {
  TestLog log;
  constexpr int kNodes = 3, kThreadsPerNode = 4, kPerThread = 150, kStreams = 7;
  std::vector<std::unique_ptr<EventStore>> nodes;
  std::vector<std::unique_ptr<Follower>> followers;
  for (int n = 0; n < kNodes; ++n) {
    StoreOptions options;
    options.pg_listen = n != 2;  // node 2 never LISTENs: polling alone must be enough
    options.pg_poll_ms = 50;
    nodes.push_back(log.open(options));
    followers.push_back(std::make_unique<Follower>());
    Follower* f = followers.back().get();
    nodes.back()->subscribe([f](const std::shared_ptr<const std::vector<Event>>& events) {
      std::lock_guard<std::mutex> lock(f->mu);
      for (const Event& e : *events) f->seqs.push_back(e.seq);
    });
  }

  struct Acked {
    std::string stream, key;
    AppendResult result;
    int events;
  };
  std::mutex acked_mu;
  std::vector<Acked> acked;
  std::atomic<int> conflicts{0}, failures{0}, shared_key_originals{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < kNodes; ++n) {
    for (int t = 0; t < kThreadsPerNode; ++t) {
      threads.emplace_back([&, n, t] {
        EventStore& store = *nodes[n];
        for (int i = 0; i < kPerThread; ++i) {
          std::string stream = "call-" + std::to_string((n * 31 + t * 7 + i) % kStreams);
          int events = 1 + i % 3;
          std::optional<std::uint64_t> expected;
          std::string key = "n" + std::to_string(n) + "-t" + std::to_string(t) + "-" + std::to_string(i);
          if (i % 10 == 0) key = "shared-" + std::to_string(i);  // every node and thread sends this one
          if (i % 5 == 1) {
            // Decide on what we read, as a call actor does: another node may get there first.
            auto version = store.stream_version(stream);
            if (!version) {
              ++failures;
              continue;
            }
            expected = *version;
          }
          auto r = store.append_sync(happened(stream, events, key, expected));
          if (!r) {
            if (r.status().code() == StatusCode::conflict) {
              ++conflicts;
            } else {
              ++failures;
              UNSCOPED_INFO(r.status().to_string());
            }
            continue;
          }
          if (!r->duplicate && key.rfind("shared-", 0) == 0) ++shared_key_originals;
          std::lock_guard<std::mutex> lock(acked_mu);
          acked.push_back(Acked{stream, key, *r, events});
        }
      });
    }
  }
  // A tailer that trusts nothing of the store: it reads the table by seq with no bound at all, as a
  // naive follower would, and notes any page that does not continue exactly where the last one ended.
  // With a position that became visible out of order (a BIGSERIAL), this is where events get skipped.
  std::atomic<bool> appending{true};
  std::atomic<int> tail_reads{0}, tail_gaps{0};
  std::thread tailer([&] {
    auto conn = pg::Conn::connect(log.url(), "test tailer", "voxlog test tailer");
    if (!conn) {
      ++tail_gaps;
      return;
    }
    std::uint64_t after = 0;
    for (bool last_round = false; !last_round;) {
      last_round = !appending.load();
      auto rows = conn->exec("SELECT seq FROM voxlog.events WHERE seq > $1 ORDER BY seq LIMIT 500",
                             {std::to_string(after)}, "tail");
      if (!rows) {
        ++tail_gaps;
        return;
      }
      ++tail_reads;
      for (int i = 0; i < rows->size(); ++i) {
        if (rows->u64(i, 0) != after + 1) ++tail_gaps;
        after = rows->u64(i, 0);
      }
      if (rows->size() == 500) last_round = false;
    }
  });
  for (auto& t : threads) t.join();
  appending = false;
  tailer.join();
  CHECK(tail_gaps.load() == 0);
  CHECK(tail_reads.load() > 10);
  CHECK(failures.load() == 0);
  CHECK(shared_key_originals.load() == kPerThread / 10);  // one original per shared key, in the cluster

  // The log: seqs 1..N, every acknowledged original exactly once at the seqs it was told.
  auto all = nodes[0]->read_all(0, 1000000);
  REQUIRE(all.is_ok());
  const std::uint64_t n_events = all->size();
  std::uint64_t acked_events = 0;
  std::map<std::string, Acked> originals;
  for (const Acked& a : acked) {
    if (a.result.duplicate) continue;
    acked_events += a.events;
    CHECK(originals.emplace(a.key, a).second);  // a key is original once
  }
  CHECK(acked_events == n_events);
  std::map<std::string, std::uint64_t> versions;
  for (std::uint64_t i = 0; i < n_events; ++i) {
    const Event& e = (*all)[i];
    REQUIRE(e.seq == i + 1);
    CHECK(e.version == ++versions[e.stream]);  // each stream dense, in seq order
  }
  for (const Acked& a : acked) {
    auto it = originals.find(a.key);
    REQUIRE(it != originals.end());
    const AppendResult& o = it->second.result;
    CHECK(a.result.first_seq == o.first_seq);  // a duplicate answers the original's range
    CHECK(a.result.last_seq == o.last_seq);
    CHECK(a.result.stream_version == o.stream_version);
    REQUIRE(o.last_seq <= n_events);
    for (std::uint64_t s = o.first_seq; s <= o.last_seq; ++s) {
      CHECK((*all)[s - 1].dedupe == a.key);
      CHECK((*all)[s - 1].stream == it->second.stream);
    }
    CHECK((*all)[o.last_seq - 1].version == o.stream_version);
  }
  Status verified = nodes[1]->verify();
  INFO(verified.to_string());
  CHECK(verified.is_ok());
  CHECK(nodes[2]->stats()->events == n_events);
  CHECK(nodes[2]->stats()->dedupe_keys == originals.size());

  // Every node's subscriber saw every event, in order, without a gap or a repeat.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (auto& f : followers) {
    while (f->last() < n_events && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int n = 0; n < kNodes; ++n) {
    std::lock_guard<std::mutex> lock(followers[n]->mu);
    INFO("node " << n);
    REQUIRE(followers[n]->seqs.size() == n_events);
    for (std::uint64_t i = 0; i < n_events; ++i) REQUIRE(followers[n]->seqs[i] == i + 1);
  }
}

TEST_CASE("the trap the log_head lock avoids: a BIGSERIAL position is seen out of order", "[postgres]") {
  // Not the store: the design it does not use, so that the race test's unbounded tailer is known to see
  // such a gap when there is one.
  TestLog log;
  auto a = pg::Conn::connect(log.url(), "a", "test a");
  auto b = pg::Conn::connect(log.url(), "b", "test b");
  REQUIRE(a.is_ok());
  REQUIRE(b.is_ok());
  REQUIRE(a->exec("CREATE TABLE serial_log (seq bigserial PRIMARY KEY, x int)", "create").is_ok());
  REQUIRE(a->exec("BEGIN; INSERT INTO serial_log (x) VALUES (1)", "a takes seq 1").is_ok());
  REQUIRE(b->exec("INSERT INTO serial_log (x) VALUES (2)", "b takes seq 2 and commits").is_ok());
  auto seen = b->exec("SELECT seq FROM serial_log WHERE seq > 0 ORDER BY seq", "tail");
  REQUIRE(seen.is_ok());
  REQUIRE(seen->size() == 1);
  CHECK(seen->u64(0, 0) == 2);  // a tailer now at 2 will never read 1, committed next
  REQUIRE(a->exec("COMMIT", "a commits seq 1").is_ok());
}

TEST_CASE("two nodes: a stale expected version is a conflict, a repeated key the original's answer",
          "[postgres]") {
  TestLog log;
  auto a = log.open();
  auto b = log.open();
  REQUIRE(*a->stream_version("call-X") == 0);
  REQUIRE(*b->stream_version("call-X") == 0);
  auto first = a->append_sync(happened("call-X", 2, "status:CA1:1", 0));
  REQUIRE(first.is_ok());
  // Node b decided on version 0 too: the database has moved on, and b is told so.
  auto stale = b->append_sync(happened("call-X", 1, {}, 0));
  REQUIRE_FALSE(stale.is_ok());
  CHECK(stale.status().code() == StatusCode::conflict);
  CHECK(stale.status().message() == "expected version 0 of call-X, stream is at 2");
  // The same webhook delivered to node b: nothing written, a's seqs.
  auto again = b->append_sync(happened("call-X", 1, "status:CA1:1", 0));
  REQUIRE(again.is_ok());
  CHECK(again->duplicate);
  CHECK(again->first_seq == first->first_seq);
  CHECK(again->last_seq == first->last_seq);
  CHECK(again->stream_version == 2);
  auto next = b->append_sync(happened("call-X", 1, {}, 2));
  REQUIRE(next.is_ok());
  CHECK(next->first_seq == 3);
  CHECK(a->verify().is_ok());
}

TEST_CASE("every session commits synchronously, whatever the server's default", "[postgres]") {
  TestLog log;
  std::string db = database_of(log.url());
  REQUIRE(PgCluster::shared().exec(db, "ALTER DATABASE " + db + " SET synchronous_commit = off").is_ok());
  auto plain = pg::Conn::connect(log.url(), log.url(), "test");
  REQUIRE(plain.is_ok());
  // The same connect() every connection of the store goes through.
  auto setting = plain->exec("SHOW synchronous_commit", "show");
  REQUIRE(setting.is_ok());
  CHECK(setting->text(0, 0) == "on");
  auto isolation = plain->exec("SHOW default_transaction_isolation", "show");
  CHECK(isolation->text(0, 0) == "read committed");
}

TEST_CASE("a connection lost before COMMIT is retried on a new one, and the append succeeds", "[postgres]") {
  TestLog log;
  auto store = log.open();
  REQUIRE(store->append_sync(happened("s", 1)).is_ok());
  std::string db = database_of(log.url());
  REQUIRE(PgCluster::shared()
              .exec(db,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                    "'voxlog writer' AND datname = current_database()")
              .is_ok());
  auto r = store->append_sync(happened("s", 2, "after-loss"));
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  CHECK(r->first_seq == 2);
  CHECK(r->stream_version == 3);
  CHECK(store->verify().is_ok());
  CHECK(store->last_write_status().is_ok());
}

TEST_CASE("a follower whose connection is lost reconnects and misses nothing", "[postgres]") {
  TestLog log;
  StoreOptions options;
  options.pg_poll_ms = 50;
  auto a = log.open(options);
  auto b = log.open(options);
  Follower seen;
  a->subscribe([&seen](const std::shared_ptr<const std::vector<Event>>& events) {
    std::lock_guard<std::mutex> lock(seen.mu);
    for (const Event& e : *events) seen.seqs.push_back(e.seq);
  });
  REQUIRE(b->append_sync(happened("s", 1)).is_ok());
  REQUIRE(PgCluster::shared()
              .exec(database_of(log.url()),
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                    "'voxlog follower' AND datname = current_database()")
              .is_ok());
  // Committed while node a's follower is away: its NOTIFYs are lost, the rows are not.
  REQUIRE(b->append_sync(happened("s", 2)).is_ok());
  REQUIRE(a->append_sync(happened("t", 1)).is_ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seen.last() < 4 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::lock_guard<std::mutex> lock(seen.mu);
  CHECK(seen.seqs == std::vector<std::uint64_t>{1, 2, 3, 4});
}

TEST_CASE("a COMMIT whose answer is lost is unavailable, outcome unknown, the retry with its key finds it",
          "[postgres]") {
  TestLog log;
  voxlog::test::CutProxy proxy(PgCluster::shared().port());
  std::string url = log.url();
  std::string port = ":" + std::to_string(PgCluster::shared().port()) + "/";
  url.replace(url.find(port), port.size(), ":" + std::to_string(proxy.port()) + "/");
  auto opened = EventStore::open_url(url, "");
  INFO(opened.status().to_string());
  REQUIRE(opened.is_ok());
  auto& store = *opened;
  Follower seen;
  store->subscribe([&seen](const std::shared_ptr<const std::vector<Event>>& events) {
    std::lock_guard<std::mutex> lock(seen.mu);
    for (const Event& e : *events) seen.seqs.push_back(e.seq);
  });
  REQUIRE(store->append_sync(happened("call-A", 1)).is_ok());
  proxy.arm();
  auto lost = store->append_sync(happened("call-A", 2, "status:CA1:2"));
  REQUIRE_FALSE(lost.is_ok());
  CHECK(proxy.cuts() == 1);
  CHECK(lost.status().code() == StatusCode::unavailable);  // a webhook would get 503, never a false 200
  CHECK_THAT(lost.status().message(), Catch::Contains("unknown"));
  CHECK(store->last_write_status().code() == StatusCode::unavailable);
  // Twilio (or the caller) tries again: the key finds what did commit, nothing is written twice.
  auto retry = store->append_sync(happened("call-A", 2, "status:CA1:2"));
  INFO(retry.status().to_string());
  REQUIRE(retry.is_ok());
  CHECK(retry->duplicate);
  CHECK(retry->first_seq == 2);
  CHECK(retry->last_seq == 3);
  CHECK(store->verify().is_ok());
  // The events committed, so the subscribers get them, answer or no answer.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seen.last() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::lock_guard<std::mutex> lock(seen.mu);
  CHECK(seen.seqs == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE("a row the writer did not expect fails the append with conflict, never a silent success",
          "[postgres]") {
  TestLog log;
  auto store = log.open();
  REQUIRE(store->append_sync(happened("s", 1)).is_ok());
  // Something wrote seq 2 without taking the log_head lock (a bug, or a foreign writer): the database's
  // key refuses our row, and the writer must say so.
  REQUIRE(PgCluster::shared()
              .exec(database_of(log.url()),
                    "INSERT INTO voxlog.events VALUES (2, 'other', 1, 'Foreign', 1, 0, 'system', NULL, '{}')")
              .is_ok());
  auto r = store->append_sync(happened("s", 1, "k"));
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::conflict);
  CHECK(r.status().message().find("events_pkey") != std::string::npos);
  CHECK_FALSE(store->find_dedupe("k")->has_value());
  CHECK(*store->stream_version("s") == 1);
  CHECK(store->verify().code() == StatusCode::data_loss);  // the foreign row is past log_head
}

TEST_CASE("an unreachable database is unavailable, and no message shows the password", "[postgres]") {
  auto r = EventStore::open_url("postgresql://voxlog:sekrit-pw@127.0.0.1:1/nothing?connect_timeout=2", "");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::unavailable);
  CHECK(r.status().retryable());
  CHECK(r.status().message().find("sekrit-pw") == std::string::npos);
  CHECK(r.status().message().find("voxlog:***@127.0.0.1:1") != std::string::npos);
}

TEST_CASE("a database with a foreign voxlog schema is refused, a missing log is not_found read-only",
          "[postgres]") {
  auto db = PgCluster::shared().create_database();
  REQUIRE(db.is_ok());
  std::string url = PgCluster::shared().url(*db);
  StoreOptions ro;
  ro.read_only = true;
  auto missing = EventStore::open_url(url, "", ro);
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == StatusCode::not_found);
  REQUIRE(PgCluster::shared().exec(*db, "CREATE SCHEMA voxlog; CREATE TABLE voxlog.stuff (x int)").is_ok());
  auto foreign = EventStore::open_url(url, "");
  REQUIRE_FALSE(foreign.is_ok());
  CHECK(foreign.status().code() == StatusCode::failed_precondition);
}

TEST_CASE("a read-only store reads what a writer committed, and refuses appends", "[postgres]") {
  TestLog log;
  auto writer = log.open();
  REQUIRE(writer->append_sync(happened("s", 3, "k")).is_ok());
  StoreOptions ro;
  ro.read_only = true;
  auto reader = log.open(ro);
  CHECK(reader->last_seq() == 3);
  CHECK(reader->read_stream("s", 0, 10)->size() == 3);
  CHECK(reader->append_sync(happened("s", 1)).status().code() == StatusCode::failed_precondition);
  CHECK(reader->verify().is_ok());
}

TEST_CASE("of several hosts in LOG_URL, the store uses the one that answers and takes writes", "[postgres]") {
  TestLog log;
  // libpq tries the hosts in order: the first has nothing listening (a primary that died).
  std::string url = log.url();
  std::string multi = url.substr(0, url.find('@') + 1) + "127.0.0.1:1," + url.substr(url.find('@') + 1);
  auto store = EventStore::open_url(multi, "");
  INFO(multi << ": " << store.status().to_string());
  REQUIRE(store.is_ok());
  auto r = (*store)->append_sync(happened("s", 2, "k"));
  REQUIRE(r.is_ok());
  CHECK(r->last_seq == 2);
  CHECK((*store)->describe() == multi);
}

TEST_CASE("one node at a time holds a leadership, it moves when the holder lets go or its session ends",
          "[postgres]") {
  TestLog log;
  auto a = log.open();
  auto b = log.open();
  auto held_by_a = a->leadership("campaigns");
  auto wanted_by_b = b->leadership("campaigns");
  CHECK(held_by_a->contested());
  REQUIRE(held_by_a->hold());
  CHECK_FALSE(wanted_by_b->hold());
  CHECK(held_by_a->hold());  // still held: the same session
  auto other_name = b->leadership("something else");
  CHECK(other_name->hold());  // another name is another lock

  held_by_a->release();  // a clean stop: the next node takes it at once
  CHECK(wanted_by_b->hold());
  CHECK_FALSE(held_by_a->hold());

  // b's sessions end (its node died, or the database cut them): b learns it at its next hold(), and a
  // takes the leadership.
  REQUIRE(PgCluster::shared()
              .exec(database_of(log.url()),
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                    "'voxlog leadership' AND datname = current_database() AND pid IN (SELECT pid FROM "
                    "pg_locks WHERE locktype = 'advisory' AND granted)")
              .is_ok());
  CHECK_FALSE(wanted_by_b->hold());
  // The server frees the lock once the terminated backend has exited: a takes it within moments.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool taken = held_by_a->hold();
  while (!taken && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    taken = held_by_a->hold();
  }
  CHECK(taken);
  CHECK_FALSE(wanted_by_b->hold());
}
