// `voxlog migrate` between LMDB and PostgreSQL, as an operator runs it: an LMDB log with varied events goes
// to a PostgreSQL database and back to a new LMDB directory, each copy checked with `voxlog verify` and
// compared event by event with the original (data byte for byte, as each store holds it); a non-empty
// target is refused untouched; an idempotency key still answers duplicate after the move. And copy_log /
// compare_logs in-process: a difference in data or length is named. Tag [migrate]:
// its own ctest entry (tests/eventstore/CMakeLists.txt), with its own PostgreSQL cluster.
#include <lmdb.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>

#include "eventstore/codec.hpp"
#include "eventstore/log_copy.hpp"
#include "eventstore/pg_conn.hpp"
#include "eventstore/store.hpp"
#include "tests/eventstore/pg_cluster.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;

#ifdef VOXLOG_CLI
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Text that tends to break encoders: quotes, escapes, NUL and control characters, 2-, 3- and 4-byte
// UTF-8, combining marks, right-to-left text, JSON-looking text, the empty string.
const std::vector<std::string> kAwkward = {"plain",
                                           "quote \" and backslash \\ and slash /",
                                           "tab\tnewline\ncr\r",
                                           std::string("nul\0in", 6),
                                           "Çağrı İptal",
                                           "名前 テスト",
                                           "emoji 📞🙂👩‍⚕️",
                                           "e\u0301 combining",
                                           "مرحبا بالعالم",
                                           "\x7f del and \x01 ctl",
                                           "",
                                           "{\"not\":\"json\"}"};

// An LMDB log with several streams, multi-event appends, idempotency keys (one append longer than a
// migrate batch), every source, odd ts and awkward data; `keys` gets each key's original range.
void build_source(const std::string& dir, std::map<std::string, AppendResult>* keys) {
  auto opened = EventStore::open(dir);
  REQUIRE(opened.is_ok());
  auto& store = **opened;
  const char* sources[] = {source::twilio_webhook, source::api, source::system, source::simulator};
  std::int64_t ts = 1733500000000;
  int n = 0;
  while (store.last_seq() < 3000) {
    AppendRequest r;
    r.stream = (n % 7 == 0 ? "campaign-Ç" : "call-FN") + std::to_string(n % 23);
    r.source = sources[n % 4];
    r.ts = n % 50 == 0 ? -5 : ts + n / 3;  // equal ts in a row, and one before the epoch
    const int events = n % 11 == 0 ? 3 : 1;
    for (int i = 0; i < events; ++i) {
      nlohmann::json data = {{"i", n},
                             {"text", kAwkward[static_cast<std::size_t>(n + i) % kAwkward.size()]},
                             {"float", 0.1 * n},
                             {"big", 18446744073709551615ULL - static_cast<std::uint64_t>(n)},
                             {"neg", -1234567890123LL},
                             {"nested", {{"a", {1, 2.5, nullptr, true}}, {"z", nlohmann::json::object()}}}};
      r.events.push_back(NewEvent{n % 5 == 0 ? "CallStatusChanged" : "DigitsPressed", data,
                                  static_cast<std::uint32_t>(1 + n % 2)});
    }
    if (n % 3 == 0) r.dedupe = "status:CA" + std::to_string(n) + ":ringing:ü";
    if (n == 1000) {  // one append longer than the migrate batch (500) below
      r.events.assign(700, NewEvent{"FlowEventReceived", {{"long", "append"}}, 1});
      r.dedupe = "flow:long-append";
    }
    auto done = store.append_sync(r);
    INFO(done.status().to_string());
    REQUIRE(done.is_ok());
    if (!r.dedupe.empty()) (*keys)[r.dedupe] = *done;
    if (n % 9 == 0 && !r.dedupe.empty()) {  // a retried webhook: a duplicate, nothing written
      auto again = store.append_sync(r);
      REQUIRE(again.is_ok());
      CHECK(again->duplicate);
    }
    ++n;
  }
}

std::unique_ptr<EventStore> open_ro(const std::string& url, const std::string& dir) {
  StoreOptions ro;
  ro.read_only = true;
  auto store = url.empty() ? EventStore::open(dir, ro) : EventStore::open_url(url, "", ro);
  INFO(store.status().to_string());
  REQUIRE(store.is_ok());
  return std::move(store).value();
}

// Every event's envelope, as `voxlog events` prints it, one line each.
std::vector<std::string> envelopes(const EventStore& store) {
  std::vector<std::string> out;
  REQUIRE(store
              .scan(0,
                    [&](const Event& e) {
                      out.push_back(to_json(e).dump());
                      return true;
                    })
              .is_ok());
  return out;
}

// The data of every event as the LMDB file holds it, read under the store.
std::vector<std::string> raw_lmdb_data(const std::string& dir) {
  std::vector<std::string> out;
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 8);
  REQUIRE(mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, "events", 0, &dbi) == 0);
  MDB_cursor* cursor = nullptr;
  REQUIRE(mdb_cursor_open(txn, dbi, &cursor) == 0);
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    codec::EventRecord rec;
    REQUIRE(
        codec::decode_record({static_cast<const char*>(v.mv_data), v.mv_size}, out.size() + 1, &rec).is_ok());
    out.emplace_back(rec.data_json);
  }
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return out;
}

// The data of every event as PostgreSQL holds it (`json` keeps the text as written).
std::vector<std::string> raw_pg_data(const std::string& url) {
  auto conn = pg::Conn::connect(url, url, "migrate test");
  REQUIRE(conn.is_ok());
  auto rows = conn->exec("SELECT data::text FROM voxlog.events ORDER BY seq", "raw data");
  REQUIRE(rows.is_ok());
  std::vector<std::string> out;
  for (int i = 0; i < rows->size(); ++i) out.emplace_back(rows->text(i, 0));
  return out;
}

void check_duplicate_after_move(EventStore& store, const std::string& key, const AppendResult& original) {
  const std::uint64_t before = store.last_seq();
  AppendRequest retry;
  retry.stream = "call-retried";
  retry.dedupe = key;
  retry.source = source::twilio_webhook;
  retry.events.push_back(NewEvent{"WebhookReceived", {{"retry", true}}, 1});
  auto answer = store.append_sync(retry);
  INFO(answer.status().to_string());
  REQUIRE(answer.is_ok());
  CHECK(answer->duplicate);
  CHECK(answer->first_seq == original.first_seq);
  CHECK(answer->last_seq == original.last_seq);
  CHECK(answer->stream_version == original.stream_version);
  CHECK(store.last_seq() == before);
}

}  // namespace

TEST_CASE("voxlog migrate copies a log LMDB -> PostgreSQL -> LMDB exactly, and refuses a non-empty target",
          "[migrate]") {
  voxlog::test::TempDir dir;
  const std::string source_dir = dir.sub("source");
  std::map<std::string, AppendResult> keys;
  build_source(source_dir, &keys);

  auto db = voxlog::test::PgCluster::shared().create_database();
  REQUIRE(db.is_ok());
  const std::string url = voxlog::test::PgCluster::shared().url(*db);
  // Trust authentication ignores the password: it is there to be hidden.
  std::string secret_url = url;
  secret_url.replace(secret_url.find("voxlog@"), 7, "voxlog:pw-never-shown@");

  auto run = [&](const std::string& env, const std::string& args) {
    std::string command = env + " " + VOXLOG_CLI + std::string(" --data ") + dir.sub("nodata") + " " + args +
                          " >" + dir.sub("stdout") + " 2>" + dir.sub("stderr");
    int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  auto output = [&] { return slurp(dir.sub("stdout")) + slurp(dir.sub("stderr")); };
  // Runs the command and checks its exit code, showing its output when that is not the one expected.
  auto expect = [&](int code, const std::string& env, const std::string& args) {
    int got = run(env, args);
    INFO("voxlog " << args << "\n" << output());
    CHECK(got == code);
    return got == code;
  };

  auto source = open_ro("", source_dir);
  const auto expected = envelopes(*source);
  const auto expected_data = raw_lmdb_data(source_dir);
  REQUIRE(expected.size() >= 3000);
  REQUIRE(expected_data.size() == expected.size());

  // LMDB -> PostgreSQL, in batches of 500 (the 700-event append goes whole).
  REQUIRE(expect(0, "", "migrate --from " + source_dir + " --to '" + secret_url + "' --batch 500"));
  CHECK(slurp(dir.sub("stdout")).find("identical to the source event by event") != std::string::npos);
  CHECK(slurp(dir.sub("stderr")).find(" / " + std::to_string(expected.size()) + " events") !=
        std::string::npos);
  CHECK(output().find("postgresql://voxlog:***@") != std::string::npos);
  CHECK(output().find("pw-never-shown") == std::string::npos);
  const std::string digest_line = slurp(dir.sub("stdout")).substr(slurp(dir.sub("stdout")).find("sha256"));

  CHECK(expect(0, "LOG_URL='" + secret_url + "'", "verify"));
  {
    auto sql = open_ro(url, "");
    CHECK(envelopes(*sql) == expected);
    CHECK(raw_pg_data(url) == expected_data);
    auto a = source->stats(), b = sql->stats();
    REQUIRE((a.is_ok() && b.is_ok()));
    CHECK(a->streams == b->streams);
    CHECK(a->dedupe_keys == b->dedupe_keys);
    CHECK(b->dedupe_keys == keys.size());
  }

  // PostgreSQL -> a new LMDB log, in the default batches.
  const std::string back_dir = dir.sub("back/log");
  REQUIRE(expect(0, "", "migrate --from '" + secret_url + "' --to " + back_dir));
  CHECK(slurp(dir.sub("stdout")).find(digest_line) != std::string::npos);  // the same log, the same digest
  CHECK(expect(0, "", "--data " + dir.sub("back") + " verify"));
  CHECK(expect(0, "LOG_URL='" + secret_url + "'", "migrate --to " + dir.sub("from-env")));  // --from: LOG_URL
  {
    auto back = open_ro("", back_dir);
    CHECK(envelopes(*back) == expected);
    CHECK(raw_lmdb_data(back_dir) == expected_data);
  }

  // A target that holds events is refused, naming it, and left as it was.
  const std::string back_file = slurp(back_dir + "/data.mdb");
  CHECK(expect(1, "", "migrate --from " + source_dir + " --to " + back_dir));
  CHECK(slurp(dir.sub("stderr")).find("the target " + back_dir + " is not empty") != std::string::npos);
  CHECK(slurp(back_dir + "/data.mdb") == back_file);
  CHECK(expect(1, "", "migrate --from " + back_dir + " --to '" + secret_url + "'"));
  CHECK(slurp(dir.sub("stderr")).find("the target postgresql://voxlog:***@") != std::string::npos);
  CHECK(slurp(dir.sub("stderr")).find("not empty") != std::string::npos);
  CHECK(output().find("pw-never-shown") == std::string::npos);
  CHECK(raw_pg_data(url) == expected_data);
  CHECK(expect(2, "", "migrate --from " + source_dir));                                         // no --to
  CHECK(expect(1, "", "migrate --from " + dir.sub("back") + " --to " + dir.sub("elsewhere")));  // DATA_DIR
  CHECK(slurp(dir.sub("stderr")).find(dir.sub("back") + " is a data directory: its log is ") !=
        std::string::npos);

  // A webhook retried after the move is still a duplicate, answered with its original range.
  for (const std::string& log : {url, std::string()}) {
    auto store = log.empty() ? EventStore::open(back_dir) : EventStore::open_url(log, "");
    REQUIRE(store.is_ok());
    for (const char* key : {"flow:long-append", "status:CA0:ringing:ü", "status:CA2997:ringing:ü"}) {
      if (keys.count(key) == 0) continue;
      check_duplicate_after_move(**store, key, keys.at(key));
    }
    auto found = (*store)->find_dedupe("flow:long-append");
    REQUIRE(found.is_ok());
    REQUIRE(found->has_value());
    CHECK((*found)->last_seq - (*found)->first_seq == 699);
  }
}

TEST_CASE("copy_log refuses a non-empty target, compare_logs names the first difference", "[migrate]") {
  voxlog::test::TempDir dir;
  auto make = [&](const std::string& name, const std::string& last_text) {
    auto store = EventStore::open(dir.sub(name));
    REQUIRE(store.is_ok());
    for (int i = 0; i < 5; ++i) {
      AppendRequest r;
      r.stream = "call-FN" + std::to_string(i % 2);
      r.ts = 1000 + i;
      r.dedupe = "k" + std::to_string(i);
      r.events.push_back(NewEvent{"Happened", {{"text", i == 4 ? last_text : "same"}}, 1});
      REQUIRE((*store)->append_sync(r).is_ok());
    }
    return std::move(store).value();
  };
  auto a = make("a", "one"), b = make("b", "two");
  auto copied = copy_log(*a, *b, 5);
  CHECK(copied.status().code() == StatusCode::failed_precondition);
  CHECK(copied.status().message().find(dir.sub("b") + " is not empty") != std::string::npos);

  auto differ = compare_logs(*a, *b);
  REQUIRE_FALSE(differ.is_ok());
  CHECK(differ.status().code() == StatusCode::data_loss);
  CHECK(differ.status().message().find("event seq 5 differs in data") != std::string::npos);

  auto c = EventStore::open(dir.sub("c"));
  REQUIRE(c.is_ok());
  std::vector<std::uint64_t> progress;
  CopyOptions options;
  options.chunk = 2;
  options.progress = [&](std::uint64_t done, std::uint64_t) { progress.push_back(done); };
  REQUIRE(copy_log(*a, **c, 5, options).is_ok());
  CHECK(progress.back() == 5);
  auto same = compare_logs(*a, **c, 2);
  INFO(same.status().to_string());
  REQUIRE(same.is_ok());
  CHECK(same->events == 5);
  CHECK(same->dedupe_keys == 5);
  CHECK(same->sha256.size() == 64);
  AppendRequest extra;
  extra.stream = "call-FN9";
  extra.events.push_back(NewEvent{"Happened", nlohmann::json::object(), 1});
  REQUIRE((*c)->append_sync(extra).is_ok());
  auto longer = compare_logs(*a, **c, 2);
  REQUIRE_FALSE(longer.is_ok());
  CHECK(longer.status().message().find(dir.sub("c") + " has events after seq 5") != std::string::npos);
}

TEST_CASE("a copy that fails midway stops with the target's error, on a full map, a valid prefix stays",
          "[migrate]") {
  voxlog::test::TempDir dir;
  auto source = EventStore::open(dir.sub("source"));
  REQUIRE(source.is_ok());
  for (int i = 0; i < 400; ++i) {
    AppendRequest r;
    r.stream = "call-FN" + std::to_string(i % 10);
    r.dedupe = "k" + std::to_string(i);
    r.events.push_back(NewEvent{"Happened", {{"pad", std::string(2000, 'x')}}, 1});
    REQUIRE((*source)->append_sync(r).is_ok());
  }
  // A target whose map cannot hold the log: its appends fail with resource_exhausted partway.
  StoreOptions small;
  small.initial_map_size = 128 * 1024;
  small.max_map_size = 256 * 1024;
  auto target = EventStore::open(dir.sub("target"), small);
  REQUIRE(target.is_ok());
  CopyOptions options;
  options.chunk = 50;
  auto copied = copy_log(**source, **target, 400, options);
  REQUIRE_FALSE(copied.is_ok());
  CHECK(copied.status().code() == StatusCode::resource_exhausted);
  CHECK(copied.status().message().find("appending seqs ") != std::string::npos);
  const std::uint64_t held = (*target)->last_seq();
  CHECK(held < 400);
  CHECK((*target)->verify().is_ok());
  auto prefix = (*source)->read_all(0, held);
  auto written = (*target)->read_all(0, 400);
  REQUIRE((prefix.is_ok() && written.is_ok()));
  REQUIRE(written->size() == held);
  for (std::size_t i = 0; i < written->size(); ++i)
    CHECK(to_json((*written)[i]).dump() == to_json((*prefix)[i]).dump());
}
#endif
