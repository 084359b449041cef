// Broadcaster catch-up: a subscriber that joins behind is replayed every missed event from the log, in
// order, each with the call's row as it was right after that event, also while the view has not yet
// committed those rows (the projection publishes before the view commits, so this window is real).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include <catch2/catch.hpp>

#include "actors/broadcaster.hpp"
#include "projections/event_types.hpp"
#include "tests/projections/log_and_view.hpp"

using namespace voxlog;

namespace {

class RecordingSubscriber : public Subscriber {
 public:
  struct Got {
    std::uint64_t seq;
    std::optional<CallRow> call;
  };

  std::uint64_t id() const override { return id_; }
  bool push(const Change& change) override {
    std::lock_guard<std::mutex> lock(mu_);
    got_.push_back({change.event.seq, change.call});
    cv_.notify_all();
    return true;
  }
  void close(std::uint16_t, const std::string&) override {}

  std::vector<Got> wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return got_.size() >= n; });
    return got_;
  }

 private:
  const std::uint64_t id_ = next_subscriber_id();
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Got> got_;
};

NewEvent status_changed(const std::string& status) {
  return {event_type::call_status_changed, {{"status", status}, {"execution_sid", "FN1"}}};
}

const std::string kStream = std::string(stream_prefix::call) + "FN1";

std::vector<const Event*> pointers(const std::vector<Event>& events) {
  std::vector<const Event*> out;
  for (const Event& e : events) out.push_back(&e);
  return out;
}

}  // namespace

TEST_CASE("a subscriber catching up gets each call event with its row, before the view has committed it") {
  test::LogAndView log;
  EventStore& store = *log.store;
  CallsView& view = *log.view;
  const std::vector<std::string> statuses = {"queued", "ringing", "in-progress"};
  AppendRequest request;
  request.stream = kStream;
  for (const std::string& s : statuses) request.events.push_back(status_changed(s));
  REQUIRE(store.append_sync(std::move(request)));

  // What the calls projection does: stage the committed events in the view and publish them with their rows.
  auto committed = store.read_all(0, 10);
  REQUIRE(committed);
  REQUIRE(committed->size() == 3);
  auto commit = std::make_shared<const std::vector<Event>>(std::move(*committed));
  auto staged = view.stage(pointers(*commit));
  REQUIRE(staged);
  REQUIRE(staged->size() == 3);
  auto batch = std::make_shared<std::vector<Change>>();
  for (std::size_t i = 0; i < commit->size(); ++i) batch->emplace_back(commit, i, (*staged)[i].second);
  const std::uint64_t row_id = (*staged)[0].second.id;
  REQUIRE(row_id != 0);

  caf::actor_system_config config;
  caf::actor_system system(config);
  Metrics metrics;
  auto broadcaster = spawn_broadcaster(system, store, view, metrics, 0);
  // Stopped however the test ends: a failed REQUIRE must not leave the system waiting for it.
  std::shared_ptr<void> stop_broadcaster(
      nullptr, [broadcaster](void*) { caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown); });
  caf::anon_send(broadcaster, publish_atom::value, ChangeBatch(batch));

  auto check_rows = [&](const std::vector<RecordingSubscriber::Got>& got) {
    REQUIRE(got.size() == 3);
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO("seq " << got[i].seq);
      CHECK(got[i].seq == i + 1);
      REQUIRE(got[i].call);
      CHECK(got[i].call->id == row_id);
      CHECK(got[i].call->status == statuses[i]);  // the row right after this event, not the newest
      CHECK(got[i].call->last_seq == got[i].seq);
    }
  };

  SECTION("while the view's transaction is still open") {
    CHECK_FALSE(view.find_by_stream(kStream));  // readers do not see it yet
    auto early = std::make_shared<RecordingSubscriber>();
    caf::anon_send(broadcaster, join_atom::value, SubscriberPtr(early), std::uint64_t{0});
    check_rows(early->wait_for(3));
  }
  SECTION("and the same once the view has committed") {
    REQUIRE(view.commit());
    auto late = std::make_shared<RecordingSubscriber>();
    caf::anon_send(broadcaster, join_atom::value, SubscriberPtr(late), std::uint64_t{0});
    check_rows(late->wait_for(3));
  }
}

namespace {

// A protocol's encoder that counts its calls: each change becomes its seq as text.
class CountingEncoder : public Encoder {
 public:
  EncodedPtr encode(const Change& change) override {
    ++calls;
    auto encoded = std::make_shared<Encoded>();
    encoded->frames = std::to_string(change.event.seq) + ";";
    return encoded;
  }
  std::atomic<int> calls{0};
};

// A subscriber of a protocol with a shared encoder: records the buffers it is handed.
class SharedSubscriber : public Subscriber {
 public:
  explicit SharedSubscriber(std::shared_ptr<Encoder> encoder) : encoder_(std::move(encoder)) {}
  std::uint64_t id() const override { return id_; }
  bool push(const Change&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++own_encodings_;  // catching up only: a live subscriber gets the shared encoding
    return true;
  }
  std::shared_ptr<Encoder> shared_encoder() const override { return encoder_; }
  bool push_encoded(const EncodedPtr& encoded) override {
    std::lock_guard<std::mutex> lock(mu_);
    got_.push_back(encoded);
    cv_.notify_all();
    return true;
  }
  void close(std::uint16_t, const std::string&) override {}

  std::vector<EncodedPtr> wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return got_.size() >= n; });
    return got_;
  }
  int own_encodings() {
    std::lock_guard<std::mutex> lock(mu_);
    return own_encodings_;
  }

 private:
  const std::uint64_t id_ = next_subscriber_id();
  std::shared_ptr<Encoder> encoder_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<EncodedPtr> got_;
  int own_encodings_ = 0;
};

Change change_at(std::uint64_t seq) {
  Event e;
  e.seq = seq;
  e.stream = "test-fanout";
  e.version = seq;
  e.type = "Noted";
  return Change(std::move(e), std::nullopt);
}

}  // namespace

TEST_CASE("a published batch is encoded once per protocol, and every live subscriber gets that one buffer") {
  test::LogAndView log;
  EventStore& store = *log.store;
  CallsView& view = *log.view;
  caf::actor_system_config config;
  caf::actor_system system(config);
  Metrics metrics;
  auto broadcaster = spawn_broadcaster(system, store, view, metrics, 0);
  std::shared_ptr<void> stop_broadcaster(
      nullptr, [broadcaster](void*) { caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown); });

  auto json = std::make_shared<CountingEncoder>();
  auto packets = std::make_shared<CountingEncoder>();
  std::vector<std::shared_ptr<SharedSubscriber>> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(std::make_shared<SharedSubscriber>(json));
  readers.push_back(std::make_shared<SharedSubscriber>(packets));
  // Joined at the log's end (nothing published yet): live at once. The mailbox keeps the order.
  for (auto& reader : readers)
    caf::anon_send(broadcaster, join_atom::value, SubscriberPtr(reader), std::uint64_t{0});
  auto batch = std::make_shared<std::vector<Change>>();
  batch->push_back(change_at(1));
  batch->push_back(change_at(2));
  caf::anon_send(broadcaster, publish_atom::value, ChangeBatch(batch));

  std::vector<EncodedPtr> first = readers[0]->wait_for(1);
  REQUIRE(first.size() == 1);
  CHECK(first[0]->frames == "1;2;");  // the whole batch, in seq order, in one buffer
  for (int i = 1; i < 3; ++i) {
    std::vector<EncodedPtr> got = readers[i]->wait_for(1);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == first[0]);  // the same buffer, not a copy
  }
  std::vector<EncodedPtr> other = readers[3]->wait_for(1);
  REQUIRE(other.size() == 1);
  CHECK(other[0] != first[0]);  // its own protocol's encoding
  CHECK(json->calls == 2);      // once per change, not once per change and subscriber
  CHECK(packets->calls == 2);
  for (auto& reader : readers) CHECK(reader->own_encodings() == 0);
}
