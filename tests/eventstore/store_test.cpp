// EventStore behaviour on either backend (TestLog: LMDB, or PostgreSQL with VOXLOG_TEST_BACKEND=postgres):
// appends and reads, expected versions, dedupe, paging, subscribers, concurrency, reopen.
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "eventstore/store.hpp"
#include "tests/eventstore/temp_dir.hpp"
#include "tests/eventstore/test_log.hpp"

using namespace voxlog;
using voxlog::test::TempDir;
using voxlog::test::TestLog;

namespace {

AppendRequest request(const std::string& stream, std::vector<std::string> types, std::string dedupe = {},
                      std::optional<std::uint64_t> expected = std::nullopt) {
  AppendRequest r;
  r.stream = stream;
  for (auto& t : types) r.events.push_back(NewEvent{t, {{"type", t}, {"n", r.events.size()}}, 1});
  r.dedupe = std::move(dedupe);
  r.expected_version = expected;
  r.source = source::api;
  return r;
}

std::unique_ptr<EventStore> open_store(const std::string& dir, StoreOptions options = {}) {
  auto store = EventStore::open(dir, options);
  INFO(store.status().to_string());
  REQUIRE(store.is_ok());
  return std::move(store).value();
}

}  // namespace

TEST_CASE("a new store starts empty", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  CHECK(store->last_seq() == 0);
  CHECK(store->read_all(0, 10)->empty());
  CHECK(*store->stream_version("call-FN1") == 0);
  CHECK(store->verify().is_ok());
}

TEST_CASE("appended events read back with every envelope field", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  AppendRequest r = request("call-FN1", {"CallRequested", "ExecutionCreated"}, "key-1");
  r.ts = 1700000000123;
  r.source = source::twilio_webhook;
  r.events[1].v = 2;
  r.events[1].data = {{"to", "+447700900123"}, {"nested", {{"a", {1, 2, 3}}}}, {"ü", "ğ"}};
  auto res = store->append_sync(r);
  REQUIRE(res.is_ok());
  CHECK(res->first_seq == 1);
  CHECK(res->last_seq == 2);
  CHECK(res->stream_version == 2);
  CHECK_FALSE(res->duplicate);

  auto all = store->read_all(0, 100);
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 2);
  const Event& e = (*all)[1];
  CHECK(e.seq == 2);
  CHECK(e.stream == "call-FN1");
  CHECK(e.version == 2);
  CHECK(e.type == "ExecutionCreated");
  CHECK(e.v == 2);
  CHECK(e.ts == 1700000000123);
  CHECK(e.source == "twilio-webhook");
  CHECK(e.dedupe == "key-1");
  CHECK(e.data == r.events[1].data);
  CHECK(to_json(e)["data"]["ü"] == "ğ");

  auto stream = store->read_stream("call-FN1", 2, 10);
  REQUIRE(stream.is_ok());
  REQUIRE(stream->size() == 1);
  CHECK((*stream)[0].seq == 2);
  CHECK(store->last_seq() == 2);
}

TEST_CASE("the store stamps ts when the request has none", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  auto before = now_ms();
  REQUIRE(store->append_sync(request("s", {"A"})).is_ok());
  auto e = store->read_all(0, 1);
  REQUIRE(e->size() == 1);
  CHECK((*e)[0].ts >= before);
  CHECK((*e)[0].ts <= now_ms());
}

TEST_CASE("streams do not mix, even when one name is a prefix of another", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(store->append_sync(request("call-FN1", {"A"})).is_ok());
    REQUIRE(store->append_sync(request("call-FN10", {"B", "B"})).is_ok());
    REQUIRE(store->append_sync(request("call-FN", {"C"})).is_ok());
  }
  CHECK(*store->stream_version("call-FN1") == 3);
  CHECK(*store->stream_version("call-FN10") == 6);
  CHECK(*store->stream_version("call-FN") == 3);
  CHECK(*store->stream_version("call-FN2") == 0);
  auto fn10 = store->read_stream("call-FN10", 0, 100);
  REQUIRE(fn10->size() == 6);
  for (std::size_t i = 0; i < fn10->size(); ++i) {
    CHECK((*fn10)[i].stream == "call-FN10");
    CHECK((*fn10)[i].version == i + 1);
  }
  CHECK(store->read_stream("call-FN1", 0, 100)->size() == 3);
  CHECK(store->read_stream("call-FN1", 3, 100)->size() == 1);
  CHECK(store->read_stream("call-FN1", 4, 100)->empty());
  CHECK(store->read_stream("call-FN10", 2, 3)->front().version == 2);
  CHECK(store->read_stream("call-FN10", 2, 3)->size() == 3);
  CHECK(store->stats()->streams == 3);
}

TEST_CASE("expected version: a mismatch is a conflict that writes nothing", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  REQUIRE(store->append_sync(request("campaign-1", {"CampaignCreated"}, {}, 0)).is_ok());
  auto again = store->append_sync(request("campaign-1", {"CampaignCreated"}, {}, 0));
  REQUIRE_FALSE(again.is_ok());
  CHECK(again.status().code() == StatusCode::conflict);
  CHECK(again.status().message() == "expected version 0 of campaign-1, stream is at 1");
  auto next = store->append_sync(request("campaign-1", {"CallQueued", "CallQueued"}, {}, 1));
  REQUIRE(next.is_ok());
  CHECK(next->stream_version == 3);
  CHECK(store->last_seq() == 3);
  CHECK(store->append_sync(request("campaign-1", {"X"}, {}, 7)).status().code() == StatusCode::conflict);
  CHECK(store->last_seq() == 3);
  CHECK(store->verify().is_ok());
}

TEST_CASE("expected versions see earlier requests of the same batch", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  // Sent without waiting, so the writer takes many of them in one transaction.
  std::vector<std::future<Result<AppendResult>>> answers;
  for (std::uint64_t i = 0; i < 50; ++i) {
    auto p = std::make_shared<std::promise<Result<AppendResult>>>();
    answers.push_back(p->get_future());
    store->append(request("s", {"A"}, {}, i), [p](const Result<AppendResult>& r) { p->set_value(r); });
  }
  auto p = std::make_shared<std::promise<Result<AppendResult>>>();
  auto late = p->get_future();
  store->append(request("s", {"A"}, {}, 10), [p](const Result<AppendResult>& r) { p->set_value(r); });
  for (std::uint64_t i = 0; i < answers.size(); ++i) {
    auto r = answers[i].get();
    REQUIRE(r.is_ok());
    CHECK(r->stream_version == i + 1);
    CHECK(r->first_seq == i + 1);
  }
  CHECK(late.get().status().code() == StatusCode::conflict);
  CHECK(store->last_seq() == 50);
}

TEST_CASE("dedupe: a repeated key returns the original seqs and writes nothing", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  REQUIRE(store->append_sync(request("other", {"A"})).is_ok());
  auto first = store->append_sync(request("call-FN1", {"CallStatusChanged", "DigitsPressed"}, "tok-1"));
  REQUIRE(first.is_ok());
  CHECK_FALSE(first->duplicate);
  // Same key, even with a stale expected version and different content: the original answer.
  auto again = store->append_sync(request("call-FN1", {"Whatever"}, "tok-1", 0));
  REQUIRE(again.is_ok());
  CHECK(again->duplicate);
  CHECK(again->first_seq == 2);
  CHECK(again->last_seq == 3);
  CHECK(again->stream_version == 2);
  CHECK(store->last_seq() == 3);

  auto found = store->find_dedupe("tok-1");
  REQUIRE(found.is_ok());
  REQUIRE(found->has_value());
  CHECK((*found)->first_seq == 2);
  CHECK((*found)->last_seq == 3);
  CHECK(store->find_dedupe("tok-2")->has_value() == false);
  CHECK(store->stats()->dedupe_keys == 1);
}

TEST_CASE("dedupe: duplicates inside one batch answer with the first one's seqs", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  std::vector<std::future<Result<AppendResult>>> answers;
  for (int i = 0; i < 40; ++i) {
    auto p = std::make_shared<std::promise<Result<AppendResult>>>();
    answers.push_back(p->get_future());
    store->append(request("call-FN9", {"A", "B"}, i % 2 ? "odd" : "even"),
                  [p](const Result<AppendResult>& r) { p->set_value(r); });
  }
  int originals = 0;
  std::set<std::uint64_t> firsts;
  for (auto& a : answers) {
    auto r = a.get();
    REQUIRE(r.is_ok());
    if (!r->duplicate) ++originals;
    firsts.insert(r->first_seq);
  }
  CHECK(originals == 2);
  CHECK(firsts == std::set<std::uint64_t>{1, 3});
  CHECK(store->last_seq() == 4);
  CHECK(store->verify().is_ok());
}

TEST_CASE("bad input is refused with a clear error and changes nothing", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  auto code_of = [&](AppendRequest r) { return store->append_sync(std::move(r)).status(); };
  CHECK(code_of(request("", {"A"})).message() == "stream is empty");
  CHECK(code_of(request("s", {})).code() == StatusCode::invalid_argument);
  CHECK(code_of(request("s", {""})).message() == "event 0 of 's': type is empty");
  CHECK(code_of(request(std::string("a\0b", 3), {"A"})).message() == "stream contains a NUL byte");
  CHECK(code_of(request(std::string(300, 's'), {"A"})).message() ==
        "stream is 300 bytes, more than the limit of 256");
  CHECK(code_of(request("s", {"A"}, std::string(257, 'k'))).code() == StatusCode::invalid_argument);
  CHECK(code_of(request("s\xff", {"A"})).message() == "stream is not valid UTF-8");
  auto not_object = request("s", {"A"});
  not_object.events[0].data = nlohmann::json::array({1, 2});
  CHECK(code_of(not_object).message() == "event 0 of 's': data is not a JSON object");
  auto bad_utf8 = request("s", {"A"});
  bad_utf8.events[0].data = {{"k", "\xc3("}};
  CHECK(code_of(bad_utf8).code() == StatusCode::invalid_argument);
  CHECK(store->last_seq() == 0);
  CHECK(store->read_all(0, 10)->empty());
  // A good request still goes through afterwards.
  CHECK(store->append_sync(request("s", {"A"})).is_ok());
  CHECK(store->last_seq() == 1);
}

TEST_CASE("read_all pages through the global log", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  for (int i = 0; i < 25; ++i) {
    REQUIRE(store->append_sync(request("s" + std::to_string(i % 4), {"A", "B"})).is_ok());
  }
  std::uint64_t after = 0;
  std::vector<std::uint64_t> seen;
  int pages = 0;
  for (;;) {
    auto page = store->read_all(after, 7);
    REQUIRE(page.is_ok());
    if (page->empty()) break;
    ++pages;
    CHECK(page->size() <= 7);
    for (auto& e : *page) seen.push_back(e.seq);
    after = page->back().seq;
  }
  CHECK(pages == 8);  // 50 events, 7 per page
  REQUIRE(seen.size() == 50);
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i + 1);
  CHECK(store->read_all(49, 7)->size() == 1);
  CHECK(store->read_all(50, 7)->empty());
  CHECK(store->read_all(0, 0)->empty());
}

TEST_CASE("scan visits events in seq order and stops when asked", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  for (int i = 0; i < 10; ++i) REQUIRE(store->append_sync(request("s", {"A"})).is_ok());
  std::vector<std::uint64_t> seqs;
  REQUIRE(store
              ->scan(3,
                     [&](const Event& e) {
                       seqs.push_back(e.seq);
                       return e.seq < 8;
                     })
              .is_ok());
  CHECK(seqs == std::vector<std::uint64_t>{4, 5, 6, 7, 8});
}

TEST_CASE("subscribers see every commit in seq order without gaps, after the appender's answer",
          "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  std::mutex mu;
  std::vector<std::uint64_t> seen;
  std::atomic<int> commits{0};
  std::atomic<std::uint64_t> answered{0};
  bool answered_before_published = true;
  store->subscribe([&](const std::shared_ptr<const std::vector<Event>>& events) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& e : *events) {
      seen.push_back(e.seq);
      if (answered.load() < e.seq) answered_before_published = false;
    }
  });
  store->on_commit([&](const CommitInfo& info) {
    CHECK(info.events >= 1);
    ++commits;
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::promise<void> done;
        store->append(request("t" + std::to_string(t), {"A"}), [&](const Result<AppendResult>& r) {
          std::uint64_t seq = r->last_seq, prev = answered.load();
          while (prev < seq && !answered.compare_exchange_weak(prev, seq)) {
          }
          done.set_value();
        });
        done.get_future().wait();
      }
    });
  }
  for (auto& t : threads) t.join();
  store.reset();  // joins the writer: the last publication has run
  REQUIRE(seen.size() == 400);
  for (std::size_t i = 0; i < seen.size(); ++i) REQUIRE(seen[i] == i + 1);
  CHECK(answered_before_published);
  CHECK(commits.load() >= 1);
  CHECK(commits.load() <= 400);
}

TEST_CASE("an unsubscribed subscriber is not called again", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  std::atomic<int> calls{0};
  auto id = store->subscribe([&](const auto&) { ++calls; });
  REQUIRE(store->append_sync(request("s", {"A"})).is_ok());
  // append_sync returns on the answer, which comes before publication: wait for it to land.
  REQUIRE(store->append_sync(request("s", {"A"})).is_ok());
  store->unsubscribe(id);
  int after_unsubscribe = calls.load();
  REQUIRE(store->append_sync(request("s", {"A"})).is_ok());
  REQUIRE(store->append_sync(request("s", {"A"})).is_ok());
  CHECK(after_unsubscribe >= 1);
  CHECK(calls.load() == after_unsubscribe);
}

TEST_CASE("16 threads appending at once get dense seqs and a store that verifies", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  constexpr int kThreads = 16, kPerThread = 500;
  std::vector<std::vector<AppendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store->append_sync(request("call-" + std::to_string(t % 5), {"A"},
                                            "t" + std::to_string(t) + "-" + std::to_string(i)));
        if (r.is_ok()) results[t].push_back(*r);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<bool> taken(kThreads * kPerThread + 1, false);
  for (auto& per_thread : results) {
    REQUIRE(per_thread.size() == kPerThread);
    for (std::size_t i = 1; i < per_thread.size(); ++i)
      CHECK(per_thread[i].first_seq > per_thread[i - 1].first_seq);
    for (auto& r : per_thread) {
      REQUIRE(r.first_seq >= 1);
      REQUIRE(r.first_seq <= kThreads * kPerThread);
      CHECK_FALSE(taken[r.first_seq]);
      taken[r.first_seq] = true;
    }
  }
  CHECK(store->last_seq() == kThreads * kPerThread);
  Status verified = store->verify();
  INFO(verified.to_string());
  CHECK(verified.is_ok());
  auto stats = store->stats();
  CHECK(stats->events == kThreads * kPerThread);
  CHECK(stats->streams == 5);
  CHECK(stats->dedupe_keys == kThreads * kPerThread);
  CHECK(stats->commits < static_cast<std::uint64_t>(kThreads * kPerThread));  // group commit happened
}

TEST_CASE("a reopened store keeps its events, versions and dedupe keys", "[eventstore][backend]") {
  TestLog log;
  {
    auto store = log.open();
    REQUIRE(store->append_sync(request("a", {"A", "B"}, "k")).is_ok());
    REQUIRE(store->append_sync(request("b", {"C"})).is_ok());
  }
  auto store = log.open();
  CHECK(store->last_seq() == 3);
  CHECK(*store->stream_version("a") == 2);
  auto dup = store->append_sync(request("a", {"A"}, "k"));
  REQUIRE(dup.is_ok());
  CHECK(dup->duplicate);
  auto next = store->append_sync(request("a", {"D"}, {}, 2));
  REQUIRE(next.is_ok());
  CHECK(next->first_seq == 4);
  CHECK(next->stream_version == 3);
  CHECK(store->verify().is_ok());
}

TEST_CASE("the destructor answers every pending append before it returns", "[eventstore][backend]") {
  TestLog log;
  std::atomic<int> answered{0};
  {
    auto store = log.open();
    for (int i = 0; i < 200; ++i) {
      store->append(request("s", {"A"}), [&](const Result<AppendResult>& r) {
        if (r.is_ok()) ++answered;
      });
    }
  }
  CHECK(answered.load() == 200);
  auto store = log.open();
  CHECK(store->last_seq() == 200);
}

TEST_CASE("a new LMDB store is created in a missing directory", "[eventstore]") {
  TempDir tmp;
  auto store = open_store(tmp.sub("a/b/log"));
  CHECK(store->last_seq() == 0);
  CHECK(store->read_all(0, 10)->empty());
  CHECK(store->verify().is_ok());
}

TEST_CASE("awkward text in every field reads back exactly", "[eventstore][backend]") {
  TestLog log;
  auto store = log.open();
  AppendRequest r = request("call-\"quoted\" {braces}, commas\\back", {"Type,With{Odd}\"Chars\\"},
                            "key \"with\" {odd}, chars\\ NULL");
  r.events[0].data = {{"nul", std::string("a\0b", 3)},
                      {"quotes", "\"'`"},
                      {"backslash", "\\\\n"},
                      {"braces", "{\"not\": \"json\"}"},
                      {"unicode", "ğüşıöç €𝄞"},
                      {"ctrl", "\t\n\r"},
                      {"null", nullptr},
                      {"numbers", {0, -1, 1.5, 1e300}},
                      {"NULL", "NULL"}};
  auto res = store->append_sync(r);
  INFO(res.status().to_string());
  REQUIRE(res.is_ok());
  auto all = store->read_all(0, 10);
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 1);
  const Event& e = all->front();
  CHECK(e.stream == r.stream);
  CHECK(e.type == r.events[0].type);
  CHECK(e.dedupe == r.dedupe);
  CHECK(e.data == r.events[0].data);
  CHECK(e.data.dump() == r.events[0].data.dump());  // byte for byte
  CHECK(store->find_dedupe(r.dedupe)->has_value());
  CHECK(*store->stream_version(r.stream) == 1);
  CHECK(store->verify().is_ok());
}
