// Deferred indexes: whether an event's streams/dedupe entries are in the DBIs or still in the unindexed
// tail, every read and every append answer must be the same; reopening rebuilds the tail; format 1 opens.
#include <cstring>
#include <future>
#include <map>
#include <thread>

#include <catch2/catch.hpp>

#include "eventstore/store.hpp"
#include "tests/eventstore/raw_lmdb.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;
using voxlog::test::TempDir;

namespace {

std::unique_ptr<EventStore> open_store(const std::string& dir, std::size_t index_batch,
                                       bool read_only = false) {
  StoreOptions options;
  options.index_batch = index_batch;
  options.read_only = read_only;
  auto store = EventStore::open(dir, options);
  INFO(store.status().to_string());
  REQUIRE(store.is_ok());
  return std::move(store).value();
}

std::string describe(const Result<AppendResult>& r) {
  if (!r) return "error " + std::to_string(static_cast<int>(r.status().code()));
  return std::to_string(r->first_seq) + ".." + std::to_string(r->last_seq) + " v" +
         std::to_string(r->stream_version) + (r->duplicate ? " dup" : "");
}

std::string describe(const Event& e) {
  return std::to_string(e.seq) + " " + e.stream + " v" + std::to_string(e.version) + " " + e.type + " " +
         e.dedupe + " " + e.data.dump();
}

// 300 appends over 13 streams: 1-3 events each, idempotency keys (some repeated, within and across
// batches), expected versions (some stale). Returns every answer, in order. `together`: all appends are
// queued at once, so the writer takes many in one transaction; the answers must not change.
std::vector<std::string> run_workload(EventStore& store, int from, int to, bool together = false) {
  std::vector<std::future<std::string>> answers;
  for (int i = from; i < to; ++i) {
    AppendRequest r;
    r.stream = "call-" + std::to_string(i * 7 % 13);
    for (int e = 0; e <= i % 3; ++e) r.events.push_back(NewEvent{"E" + std::to_string(e), {{"i", i}}, 1});
    if (i % 4 != 0) r.dedupe = "key-" + std::to_string(i % 5 == 0 ? i / 2 : i);
    if (i % 6 == 0) r.expected_version = static_cast<std::uint64_t>(i / 4);
    auto promise = std::make_shared<std::promise<std::string>>();
    answers.push_back(promise->get_future());
    store.append(std::move(r), [promise](const Result<AppendResult>& a) { promise->set_value(describe(a)); });
    if (!together) answers.back().wait();
  }
  std::vector<std::string> out;
  for (auto& a : answers) out.push_back(a.get());
  return out;
}

// Everything a reader can ask, as text.
std::vector<std::string> read_everything(const EventStore& store) {
  std::vector<std::string> out;
  for (int s = 0; s < 14; ++s) {
    std::string stream = "call-" + std::to_string(s);
    out.push_back(stream + " at v" + std::to_string(*store.stream_version(stream)));
    auto all = store.read_stream(stream, 1, 1000), page = store.read_stream(stream, 3, 2);
    REQUIRE(all.is_ok());
    REQUIRE(page.is_ok());
    for (const Event& e : *all) out.push_back(describe(e));
    for (const Event& e : *page) out.push_back("from 3: " + describe(e));
  }
  for (int k = 0; k < 620; ++k) {
    auto found = store.find_dedupe("key-" + std::to_string(k));
    out.push_back(found->has_value() ? "key-" + std::to_string(k) + " " + describe(**found) : "-");
  }
  auto stats = store.stats();
  out.push_back("events " + std::to_string(stats->events) + " streams " + std::to_string(stats->streams) +
                " keys " + std::to_string(stats->dedupe_keys));
  return out;
}

}  // namespace

TEST_CASE("reads and answers are the same whether index entries are written or still pending",
          "[eventstore][index]") {
  TempDir reference_dir;
  std::vector<std::string> reference_answers, reference_reads;
  {
    auto store = open_store(reference_dir.path(), 1);  // every commit writes its index entries
    reference_answers = run_workload(*store, 0, 300);
    reference_reads = read_everything(*store);
    REQUIRE(store->verify().is_ok());
    CHECK(store->stats()->indexed_through == store->last_seq());
  }
  for (std::size_t index_batch : {std::size_t{2}, std::size_t{7}, std::size_t{64}, std::size_t{100000}}) {
    INFO("index_batch " << index_batch);
    TempDir tmp;
    {
      auto store = open_store(tmp.path(), index_batch);
      CHECK(run_workload(*store, 0, 200) ==
            std::vector<std::string>(reference_answers.begin(), reference_answers.begin() + 200));
    }
    // Reopened, the writer rebuilds its pending entries from the log: keys and versions still hold.
    auto store = open_store(tmp.path(), index_batch);
    CHECK(run_workload(*store, 200, 300) ==
          std::vector<std::string>(reference_answers.begin() + 200, reference_answers.end()));
    CHECK(read_everything(*store) == reference_reads);
    CHECK(store->verify().is_ok());
    if (index_batch == 100000) CHECK(store->stats()->indexed_through == 0);
    if (index_batch == 2) CHECK(store->stats()->indexed_through + 2 > store->last_seq());
    store.reset();
    // Another process's view: read-only, no writer, the same answers.
    CHECK(read_everything(*open_store(tmp.path(), index_batch, true)) == reference_reads);
  }
}

TEST_CASE("a format-1 store opens: read-only as it is, writable upgraded with every event indexed",
          "[eventstore][index]") {
  TempDir tmp;
  std::vector<std::string> reads;
  {
    auto store = open_store(tmp.path(), 1);
    run_workload(*store, 0, 50);
    reads = read_everything(*store);
  }
  // What format 1 wrote: format = 1, no `indexed` key, every event indexed.
  test::with_raw_dbi(tmp.path(), "meta", false, [](MDB_txn* txn, MDB_dbi dbi) {
    std::uint32_t one = 1;
    std::string key = "format", value(4, '\0');
    std::memcpy(value.data(), &one, 4);
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
    std::string indexed = "indexed";
    MDB_val ik{indexed.size(), indexed.data()};
    REQUIRE(mdb_del(txn, dbi, &ik, nullptr) == 0);
  });
  CHECK(read_everything(*open_store(tmp.path(), 1000, true)) == reads);
  CHECK(open_store(tmp.path(), 1000, true)->verify().is_ok());
  auto store = open_store(tmp.path(), 1000);
  CHECK(store->stats()->indexed_through == store->last_seq());
  CHECK(read_everything(*store) == reads);
  CHECK(store->verify().is_ok());
  store.reset();
  test::with_raw_dbi(tmp.path(), "meta", false, [](MDB_txn* txn, MDB_dbi dbi) {
    std::string key = "format";
    MDB_val k{key.size(), key.data()}, v;
    REQUIRE(mdb_get(txn, dbi, &k, &v) == 0);
    std::uint32_t format;
    std::memcpy(&format, v.mv_data, 4);
    CHECK(format == 2);
  });
}

TEST_CASE("a batch retried after the map grew leaves no stale pending entries behind",
          "[eventstore][index]") {
  // Every growth aborts a transaction whose entries the readers' in-memory index had already seen;
  // they must be withdrawn, or reads would show events that were never committed under those seqs.
  TempDir tmp;
  std::vector<std::string> answers;
  {
    StoreOptions options;
    options.initial_map_size = 64 * 1024;
    options.index_batch = 100000;  // everything stays pending: every entry is read from memory
    auto opened = EventStore::open(tmp.path(), options);
    REQUIRE(opened.is_ok());
    EventStore& store = **opened;
    std::uint64_t initial_map = store.stats()->map_bytes;
    answers = run_workload(store, 0, 300, true);
    CHECK(store.stats()->map_bytes > initial_map);
    auto live = read_everything(store);
    // The same store through a read-only open scans the log instead of using the in-memory index.
    CHECK(live == read_everything(*open_store(tmp.path(), 100000, true)));
    CHECK(store.verify().is_ok());
  }
  TempDir reference;
  CHECK(run_workload(*open_store(reference.path(), 1), 0, 300) == answers);
}

TEST_CASE("every answered append is visible to reads at once, while index entries move to the DBIs",
          "[eventstore][index]") {
  // Readers in the writer's process take pending entries from memory while the writer adds them and
  // bulk-writes them (every 16 events here): an appender that reads right after its answer must see
  // its event, its version and its key, whatever the timing.
  TempDir tmp;
  auto store = open_store(tmp.path(), 16);
  constexpr int kThreads = 6, kAppends = 150;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends && failures[t].empty(); ++i) {
        AppendRequest r;
        r.stream = "call-" + std::to_string(t) + "-" + std::to_string(i / 5);
        r.events.push_back(NewEvent{"E", {{"i", i}}, 1});
        r.dedupe = "key-" + std::to_string(t) + "-" + std::to_string(i);
        auto answer = store->append_sync(r);
        if (!answer) {
          failures[t] = "append: " + answer.status().to_string();
          break;
        }
        auto version = store->stream_version(r.stream);
        auto events = store->read_stream(r.stream, 1, 100);
        auto found = store->find_dedupe(r.dedupe);
        std::uint64_t expected_version = static_cast<std::uint64_t>(i % 5) + 1;
        if (!version || *version != expected_version) failures[t] = "stream_version after " + r.dedupe;
        if (!events || events->size() != expected_version || events->back().seq != answer->last_seq)
          failures[t] = "read_stream after " + r.dedupe;
        if (!found || !found->has_value() || (*found)->first_seq != answer->first_seq)
          failures[t] = "find_dedupe after " + r.dedupe;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& f : failures) CHECK(f.empty());
  CHECK(store->stats()->events == kThreads * kAppends);
  CHECK(store->verify().is_ok());
}
