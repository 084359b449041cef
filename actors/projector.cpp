#include "actors/projector.hpp"

#include <iostream>

#include "actors/messages.hpp"

namespace voxlog {

const std::string& Change::ws_json() const {
  if (ws_json_.empty()) {
    // {"call":…,"event":…,"seq":…,"type":"event"}: nlohmann's key order, with the row written directly.
    nlohmann::json rest = {{"event", to_json(event)}, {"seq", event.seq}, {"type", "event"}};
    ws_json_ =
        "{\"call\":" + (call ? to_json_text(*call) : std::string("null")) + "," + rest.dump().substr(1);
  }
  return ws_json_;
}

Projector::Projector(EventStore& store, CallsView& view, caf::actor broadcaster)
    : store_(store), view_(view), broadcaster_(std::move(broadcaster)) {}

Projector::~Projector() {
  stop();
}

Status Projector::start() {
  subscription_ = store_.subscribe([this](const std::shared_ptr<const std::vector<Event>>& committed) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back(committed);
    wake_.notify_one();
  });
  if (Status s = catch_up_from_log(); !s) return s;
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void Projector::stop() {
  if (subscription_) store_.unsubscribe(subscription_);
  subscription_ = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

Status Projector::catch_up_from_log() {
  for (;;) {
    auto page = store_.read_all(view_.checkpoint(), 4096);
    if (!page) return page.status();
    if (page->empty()) return Status::ok();
    if (Status s = apply_pending({std::make_shared<const std::vector<Event>>(std::move(*page))}); !s)
      return s;
  }
}

// The events are read in place from the committed batches (shared with the store's other subscribers)
// and handed on to the broadcaster the same way: no event is copied.
Status Projector::apply_pending(const std::vector<Change::Commit>& commits) {
  std::uint64_t checkpoint = view_.checkpoint();
  std::vector<const Event*> events;
  for (const auto& commit : commits) {
    for (const Event& e : *commit) events.push_back(&e);
  }
  if (!events.empty() && events.front()->seq > checkpoint + 1) {
    // A gap between what we hold and the view (should not happen: subscribed before catching up); the
    // log has everything, so read it rather than skip.
    return catch_up_from_log();
  }
  // Published before the view's own commit: subscribers hear of durable events without waiting for the
  // view's disk sync (the broadcaster drops seqs a client already has, should a failed commit repeat them).
  auto publish = [&](CallsView::Changed& changed) {
    auto batch = std::make_shared<std::vector<Change>>();
    batch->reserve(events.size());
    std::size_t next_row = 0;
    for (const auto& commit : commits) {
      for (std::size_t i = 0; i < commit->size(); ++i) {
        std::uint64_t seq = (*commit)[i].seq;
        if (seq <= checkpoint) continue;
        std::optional<CallRow> row;
        if (next_row < changed.size() && changed[next_row].first == seq)
          row = std::move(changed[next_row++].second);
        batch->emplace_back(commit, i, std::move(row));
      }
    }
    if (!batch->empty()) caf::anon_send(broadcaster_, publish_atom::value, ChangeBatch(std::move(batch)));
  };
  auto applied = view_.apply_batch(events, publish);
  return applied ? Status::ok() : applied.status();
}

void Projector::run() {
  for (;;) {
    std::vector<Change::Commit> work;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, nothing left
      work.assign(pending_.begin(), pending_.end());
      pending_.clear();
    }
    if (Status s = apply_pending(work); !s)
      std::cerr << "voxlogd: calls view update failed, will retry from the log: " << s.to_string() << '\n';
  }
}

}  // namespace voxlog
