#include "actors/projector.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "actors/broadcaster.hpp"

namespace voxlog {

Projector::Projector(EventStore& store, CallsView& view, broadcaster_actor broadcaster)
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
  live_ = true;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "voxlog.project");
    run();
  });
  return Status::ok();
}

void Projector::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;  // stopped already (the destructor calls it again)
  }
  if (subscription_) store_.unsubscribe(subscription_);
  subscription_ = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  // What was committed after the unsubscription: a clean stop leaves the view equal to the log.
  if (Status s = catch_up_from_log(); !s)
    std::cerr << "voxlogd: the calls view could not take in the last events: " << s.to_string() << '\n';
  release_reads(0, true);
}

void Projector::when_committed(std::uint64_t seq, std::function<void()> read) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Once stopping, a read runs at once: stop() may already have run the waiting ones. While the view
    // cannot commit, too: nothing would wake it (a failed commit leaves nothing staged).
    if (seq > committed_through_ && !stopping_ && !view_failing_) {
      waiting_reads_.push_back({seq, std::move(read)});
      wake_.notify_one();
      return;
    }
  }
  read();
}

void Projector::release_reads(std::uint64_t through, bool all) {
  std::vector<WaitingRead> ready;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!all) {
      committed_through_ = through;
      view_failing_ = false;
    }
    auto served = std::stable_partition(waiting_reads_.begin(), waiting_reads_.end(),
                                        [&](const WaitingRead& w) { return all || w.seq <= through; });
    ready.assign(std::make_move_iterator(waiting_reads_.begin()), std::make_move_iterator(served));
    waiting_reads_.erase(waiting_reads_.begin(), served);
  }
  for (WaitingRead& w : ready) w.read();
}

// Page by page, each committed: a catch-up of millions of events must not grow one transaction.
Status Projector::catch_up_from_log() {
  for (;;) {
    auto page = store_.read_all(view_.staged_through(), 4096);
    if (!page) return page.status();
    if (page->empty()) return commit_view();
    if (Status s = apply_pending({std::make_shared<const std::vector<Event>>(std::move(*page))}); !s)
      return s;
    if (Status s = commit_view(); !s) return s;
  }
}

Status Projector::commit_view() {
  last_commit_ = std::chrono::steady_clock::now();
  staged_events_ = 0;
  std::uint64_t through = view_.staged_through();
  Status s = view_.commit();
  if (s) release_reads(through, false);
  return s;
}

// The events are read in place from the committed batches (shared with the store's other subscribers)
// and handed on to the broadcaster the same way: no event is copied. They are published as soon as they
// are staged: they are durable in the log, so subscribers need not wait for the view's own commit. (A
// failed view write drops what was staged, and the catch-up publishes it again; the broadcaster drops
// the seqs a client already has.)
Status Projector::apply_pending(const std::vector<Change::Commit>& commits) {
  std::uint64_t staged = view_.staged_through();
  std::vector<const Event*> events;
  for (const auto& commit : commits) {
    for (const Event& e : *commit) events.push_back(&e);
  }
  if (!events.empty() && events.front()->seq > staged + 1) {
    // A gap between what we hold and the view (after a failed view write, which dropped what was
    // staged); the log has everything, so read it rather than skip.
    return catch_up_from_log();
  }
  auto changed = view_.stage(events);
  if (!changed) return changed.status();
  staged_events_ += events.size();
  auto batch = std::make_shared<std::vector<Change>>();
  batch->reserve(events.size());
  std::size_t next_row = 0;
  for (const auto& commit : commits) {
    for (std::size_t i = 0; i < commit->size(); ++i) {
      std::uint64_t seq = (*commit)[i].seq;
      if (seq <= staged) continue;
      std::optional<CallRow> row;
      if (next_row < changed->size() && (*changed)[next_row].first == seq)
        row = std::move((*changed)[next_row++].second);
      if (row && live_ && on_campaign_call_ && !row->batch_id.empty()) on_campaign_call_(*row);
      batch->emplace_back(commit, i, std::move(row));
    }
  }
  if (!batch->empty()) caf::anon_send(broadcaster_, publish_atom::value, ChangeBatch(std::move(batch)));
  return Status::ok();
}

// Group commit for the view: whatever piled up is staged and published at once, and the view commits
// when kCommitInterval has passed since its last commit, or when no more work is waiting by then. A
// batch after a quiet spell of kCommitInterval therefore commits at once, one sooner after a commit
// within kCommitInterval; under load the view syncs at most every kCommitInterval, not once per log
// commit (each sync is a disk flush the log's own commits would otherwise queue behind).
void Projector::run() {
  for (;;) {
    std::vector<Change::Commit> work;
    bool stopping;
    bool reads_wait;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // A waiting read is work too once something is staged: it wants a commit now, not in 20 ms.
      auto ready = [this] {
        return stopping_ || !pending_.empty() || (!waiting_reads_.empty() && view_.has_staged());
      };
      if (view_.has_staged()) {
        wake_.wait_until(lock, last_commit_ + kCommitInterval, ready);
      } else {
        wake_.wait(lock, ready);
      }
      work.assign(pending_.begin(), pending_.end());
      pending_.clear();
      stopping = stopping_;
      reads_wait = !waiting_reads_.empty();
    }
    Status s = apply_pending(work);
    bool due = std::chrono::steady_clock::now() >= last_commit_ + kCommitInterval;
    if (s && view_.has_staged() &&
        (due || work.empty() || stopping || reads_wait || staged_events_ >= kMaxStaged))
      s = commit_view();
    if (!s) {
      std::cerr << "voxlogd: calls view update failed, will retry from the log: " << s.to_string() << '\n';
      {
        std::lock_guard<std::mutex> lock(mutex_);
        view_failing_ = true;
      }
      release_reads(0, true);  // answered from the last commit rather than left waiting
    }
    if (stopping && work.empty()) return;
  }
}

}  // namespace voxlog
