// EventStore under bad conditions: foreign files, a full map, read-only use, damaged data found by verify.
#include <fstream>

#include <catch2/catch.hpp>

#include "eventstore/store.hpp"
#include "tests/eventstore/raw_lmdb.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;
using voxlog::test::TempDir;

namespace {

AppendRequest one_event(const std::string& stream, std::size_t data_bytes = 40, std::string dedupe = {}) {
  AppendRequest r;
  r.stream = stream;
  r.events.push_back(NewEvent{"CallStatusChanged", {{"pad", std::string(data_bytes, 'x')}}, 1});
  r.dedupe = std::move(dedupe);
  return r;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// index_batch 1: every event is in the streams and dedupe DBIs when fill() returns.
void fill(const std::string& dir, int events, std::size_t index_batch = 1) {
  StoreOptions options;
  options.index_batch = index_batch;
  auto store = EventStore::open(dir, options);
  REQUIRE(store.is_ok());
  for (int i = 0; i < events; ++i) {
    REQUIRE((*store)
                ->append_sync(one_event("call-" + std::to_string(i % 3), 40, "d" + std::to_string(i)))
                .is_ok());
  }
}

Status verify_of(const std::string& dir) {
  auto store = EventStore::open(dir);
  REQUIRE(store.is_ok());
  return (*store)->verify();
}

}  // namespace

TEST_CASE("a data.mdb that is not LMDB is refused and left untouched", "[eventstore][failure]") {
  TempDir tmp;
  const std::string garbage(8192, 'G');
  { std::ofstream(tmp.sub("data.mdb"), std::ios::binary) << garbage; }
  auto store = EventStore::open(tmp.path());
  REQUIRE_FALSE(store.is_ok());
  CHECK(store.status().code() == StatusCode::failed_precondition);
  CHECK(store.status().message() ==
        tmp.sub("data.mdb") + " is not an LMDB file (bad magic); refusing to use it");
  CHECK(file_bytes(tmp.sub("data.mdb")) == garbage);
  CHECK_FALSE(std::filesystem::exists(tmp.sub("lock.mdb")));
}

TEST_CASE("a tiny foreign data.mdb is refused", "[eventstore][failure]") {
  TempDir tmp;
  { std::ofstream(tmp.sub("data.mdb"), std::ios::binary) << "hi"; }
  auto store = EventStore::open(tmp.path());
  CHECK(store.status().code() == StatusCode::failed_precondition);
  CHECK(file_bytes(tmp.sub("data.mdb")) == "hi");
}

TEST_CASE("an LMDB environment that is not an event store is refused", "[eventstore][failure]") {
  TempDir tmp;
  test::with_raw_dbi(tmp.path(), nullptr, false, [](MDB_txn* txn, MDB_dbi dbi) {
    std::string k = "someone", v = "else's data";
    MDB_val key{k.size(), k.data()}, value{v.size(), v.data()};
    REQUIRE(mdb_put(txn, dbi, &key, &value, 0) == 0);
  });
  std::string before = file_bytes(tmp.sub("data.mdb"));
  auto store = EventStore::open(tmp.path());
  REQUIRE_FALSE(store.is_ok());
  CHECK(store.status().code() == StatusCode::failed_precondition);
  CHECK(store.status().message().find("not a voxlog event store") != std::string::npos);
  CHECK(store.status().message().find(tmp.sub("data.mdb")) != std::string::npos);
  CHECK(file_bytes(tmp.sub("data.mdb")) == before);
}

TEST_CASE("a 'meta' database without our magic is refused", "[eventstore][failure]") {
  TempDir tmp;
  test::with_raw_dbi(tmp.path(), "meta", true, [](MDB_txn* txn, MDB_dbi dbi) {
    std::string k = "magic", v = "another-app";
    MDB_val key{k.size(), k.data()}, value{v.size(), v.data()};
    REQUIRE(mdb_put(txn, dbi, &key, &value, 0) == 0);
  });
  auto store = EventStore::open(tmp.path());
  CHECK(store.status().code() == StatusCode::failed_precondition);
  CHECK(store.status().message().find("without the voxlog event store magic") != std::string::npos);
}

TEST_CASE("a directory holding other files, or a file instead of a directory, is refused",
          "[eventstore][failure]") {
  TempDir tmp;
  { std::ofstream(tmp.sub("notes.txt")) << "mine"; }
  auto store = EventStore::open(tmp.path());
  CHECK(store.status().code() == StatusCode::failed_precondition);
  CHECK(store.status().message() ==
        tmp.path() + " holds 'notes.txt', which is not part of a voxlog event store; refusing to use it");
  CHECK_FALSE(std::filesystem::exists(tmp.sub("data.mdb")));
  auto on_file = EventStore::open(tmp.sub("notes.txt"));
  CHECK(on_file.status().code() == StatusCode::failed_precondition);
  CHECK(on_file.status().message() == tmp.sub("notes.txt") + " exists and is not a directory");
}

TEST_CASE("read-only open never creates a store and refuses appends", "[eventstore][failure]") {
  TempDir tmp;
  StoreOptions ro;
  ro.read_only = true;
  auto missing = EventStore::open(tmp.sub("log"), ro);
  CHECK(missing.status().code() == StatusCode::not_found);
  CHECK_FALSE(std::filesystem::exists(tmp.sub("log")));
  fill(tmp.path(), 3);
  auto store = EventStore::open(tmp.path(), ro);
  REQUIRE(store.is_ok());
  CHECK((*store)->last_seq() == 3);
  CHECK((*store)->verify().is_ok());
  auto r = (*store)->append_sync(one_event("s"));
  CHECK(r.status().code() == StatusCode::failed_precondition);
}

TEST_CASE("the map grows by itself past a tiny initial size", "[eventstore][failure]") {
  TempDir tmp;
  StoreOptions options;
  options.initial_map_size = 64 * 1024;
  auto opened = EventStore::open(tmp.path(), options);
  REQUIRE(opened.is_ok());
  auto& store = *opened;
  std::uint64_t initial_map = store->stats()->map_bytes;
  for (int i = 0; i < 300; ++i) {
    auto r = store->append_sync(one_event("s" + std::to_string(i % 7), 2000));
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
  }
  auto stats = store->stats();
  CHECK(stats->events == 300);
  CHECK(stats->map_bytes > initial_map);
  CHECK(stats->file_bytes > 300u * 2000u);
  CHECK(store->verify().is_ok());
}

TEST_CASE("a map at its limit fails with resource_exhausted and leaves the log intact",
          "[eventstore][failure]") {
  TempDir tmp;
  StoreOptions options;
  options.initial_map_size = 128 * 1024;
  options.max_map_size = 256 * 1024;
  auto opened = EventStore::open(tmp.path(), options);
  REQUIRE(opened.is_ok());
  auto& store = *opened;
  std::uint64_t committed = 0;
  Status failure;
  for (int i = 0; i < 1000; ++i) {
    auto r = store->append_sync(one_event("s", 1000, "k" + std::to_string(i)));
    if (!r.is_ok()) {
      failure = r.status();
      break;
    }
    committed = r->last_seq;
  }
  REQUIRE_FALSE(failure.is_ok());
  CHECK(failure.code() == StatusCode::resource_exhausted);
  CHECK(failure.message().find("map full") != std::string::npos);
  CHECK(committed > 10);
  CHECK(store->last_seq() == committed);
  CHECK(store->verify().is_ok());
  // A small append may still fit; a failed one left nothing behind.
  opened = Status(StatusCode::internal, "closed");
  auto reopened = EventStore::open(tmp.path());
  REQUIRE(reopened.is_ok());
  CHECK((*reopened)->last_seq() == committed);
  CHECK((*reopened)->verify().is_ok());
  CHECK((*reopened)->append_sync(one_event("s", 1000, "after")).is_ok());  // default limit: grows again
}

TEST_CASE("verify names a flipped byte in a value", "[eventstore][verify]") {
  TempDir tmp;
  fill(tmp.path(), 5);
  test::flip_event_byte(tmp.path(), 4);
  Status st = verify_of(tmp.path());
  CHECK(st.code() == StatusCode::data_loss);
  CHECK(st.message().rfind("event seq 4: checksum mismatch (stored ", 0) == 0);
}

TEST_CASE("verify names a gap in the seqs", "[eventstore][verify]") {
  TempDir tmp;
  fill(tmp.path(), 5);
  test::with_raw_dbi(tmp.path(), "events", false, [](MDB_txn* txn, MDB_dbi dbi) {
    std::string key = test::seq_key_bytes(3);
    MDB_val k{key.size(), key.data()};
    REQUIRE(mdb_del(txn, dbi, &k, nullptr) == 0);
  });
  Status st = verify_of(tmp.path());
  CHECK(st.code() == StatusCode::data_loss);
  CHECK(st.message() == "seq gap: expected seq 3, found 4");
}

TEST_CASE("verify names an event missing from the streams index", "[eventstore][verify]") {
  TempDir tmp;
  fill(tmp.path(), 4);  // streams call-0 (seqs 1, 4), call-1, call-2
  test::with_raw_dbi(tmp.path(), "streams", false, [](MDB_txn* txn, MDB_dbi dbi) {
    std::string key = std::string("call-0") + '\0' + test::seq_key_bytes(2);
    MDB_val k{key.size(), key.data()};
    REQUIRE(mdb_del(txn, dbi, &k, nullptr) == 0);
  });
  Status st = verify_of(tmp.path());
  CHECK(st.code() == StatusCode::data_loss);
  CHECK(st.message() == "event seq 4 (call-0 v2): not in the streams index");
}

TEST_CASE("verify names a dedupe entry that points at the wrong events", "[eventstore][verify]") {
  TempDir tmp;
  fill(tmp.path(), 3);
  test::with_raw_dbi(tmp.path(), "dedupe", false, [](MDB_txn* txn, MDB_dbi dbi) {
    std::string key = "forged",
                value = test::seq_key_bytes(2) + test::seq_key_bytes(2) + test::seq_key_bytes(1);
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  });
  Status st = verify_of(tmp.path());
  CHECK(st.code() == StatusCode::data_loss);
  CHECK(st.message() == "dedupe key 'forged': event seq 2 carries key 'd1'");
}

TEST_CASE("verify names an event after meta 'indexed' that is in the streams index", "[eventstore][verify]") {
  TempDir tmp;
  fill(tmp.path(), 4, 1000);  // nothing indexed yet
  test::with_raw_dbi(tmp.path(), "streams", false, [](MDB_txn* txn, MDB_dbi dbi) {
    std::string key = std::string("call-1") + '\0' + test::seq_key_bytes(1), value = test::seq_key_bytes(2);
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  });
  Status st = verify_of(tmp.path());
  CHECK(st.code() == StatusCode::data_loss);
  CHECK(st.message() == "event seq 2 (call-1 v1): in the streams index, but after meta 'indexed'");
}

TEST_CASE("a meta 'indexed' past the last event is refused as data loss", "[eventstore][verify]") {
  TempDir tmp;
  fill(tmp.path(), 3, 1000);
  test::with_raw_dbi(tmp.path(), "meta", false, [](MDB_txn* txn, MDB_dbi dbi) {
    std::string key = "indexed", value = test::seq_key_bytes(9);
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  });
  auto store = EventStore::open(tmp.path());
  REQUIRE_FALSE(store.is_ok());
  CHECK(store.status().code() == StatusCode::data_loss);
  CHECK(store.status().message() == "meta 'indexed' is seq 9, past the last event 3");
}

TEST_CASE("scan hands over every event before a corrupt one, in order, then reports it",
          "[eventstore][verify]") {
  TempDir tmp;
  {
    auto store = EventStore::open(tmp.path());
    REQUIRE(store.is_ok());
    // Few large appends: enough events for scan's parallel decoding chunks.
    for (int r = 0; r < 10; ++r) {
      AppendRequest req;
      req.stream = "bulk-" + std::to_string(r);
      for (int i = 0; i < 500; ++i) req.events.push_back(NewEvent{"A", {{"i", i}}, 1});
      REQUIRE((*store)->append_sync(std::move(req)).is_ok());
    }
  }
  auto seqs_until_failure = [&](Status* result) {
    auto store = EventStore::open(tmp.path());
    REQUIRE(store.is_ok());
    std::vector<std::uint64_t> seqs;
    *result = (*store)->scan(0, [&](const Event& e) {
      seqs.push_back(e.seq);
      return true;
    });
    return seqs;
  };
  Status result;
  auto all = seqs_until_failure(&result);
  CHECK(result.is_ok());
  REQUIRE(all.size() == 5000);
  for (std::size_t i = 0; i < all.size(); ++i) REQUIRE(all[i] == i + 1);

  test::flip_event_byte(tmp.path(), 3000);
  auto before = seqs_until_failure(&result);
  CHECK(result.code() == StatusCode::data_loss);
  CHECK(result.message().rfind("event seq 3000: checksum mismatch", 0) == 0);
  REQUIRE(before.size() == 2999);
  CHECK(before.back() == 2999);
}

TEST_CASE("a truncated data.mdb is refused instead of crashing on a read past its end",
          "[eventstore][failure]") {
  TempDir tmp;
  fill(tmp.path(), 2000);
  auto full_size = std::filesystem::file_size(tmp.sub("data.mdb"));
  REQUIRE(full_size > 3 * 4096);
  std::filesystem::resize_file(tmp.sub("data.mdb"), 3 * 4096);
  auto store = EventStore::open(tmp.path());
  REQUIRE_FALSE(store.is_ok());
  CHECK(store.status().code() == StatusCode::data_loss);
  CHECK(store.status().message().rfind(tmp.sub("data.mdb") + " is truncated: 12288 bytes, its pages need ",
                                       0) == 0);
  CHECK(std::filesystem::file_size(tmp.sub("data.mdb")) == 3 * 4096);
}
