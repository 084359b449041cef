// The half of an event store that both backends share (store_core.hpp): the append queue, the threads'
// hand-over, subscribers and the latest write's outcome.
#include "eventstore/store_core.hpp"

#include <pthread.h>

#include <future>

namespace voxlog {

void StoreCore::enqueue(AppendRequest request, AppendCallback done) {
  PendingAppend pending = prepare_append(std::move(request), std::move(done));
  {
    std::lock_guard<std::mutex> lock(queue_mu);
    if (options.read_only) {
      pending.precheck = failed_precondition(name + " is open read-only");
    } else if (stopping) {
      pending.precheck = failed_precondition(name + " is closing");
    } else {
      // Rejected requests go through the queue too: every answer comes from the publisher thread.
      queue.push_back(std::move(pending));
      queue_cv.notify_one();
      return;
    }
  }
  pending.done(pending.precheck);  // no writer will ever run it
}

Result<AppendResult> StoreCore::append_sync(AppendRequest request) {
  if (std::this_thread::get_id() == publisher_id) {
    return failed_precondition("append_sync called from a store callback would deadlock the publisher");
  }
  std::promise<Result<AppendResult>> promise;
  auto answer = promise.get_future();
  enqueue(std::move(request), [&promise](const Result<AppendResult>& r) { promise.set_value(r); });
  return answer.get();
}

std::uint64_t StoreCore::subscribe(Subscriber subscriber) {
  std::lock_guard<std::mutex> lock(subscribers_mu);
  std::uint64_t id = next_subscriber_id++;
  subscribers.emplace(id, std::move(subscriber));
  return id;
}

void StoreCore::unsubscribe(std::uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(subscribers_mu);
    subscribers.erase(id);
  }
  // Wait out a publication in progress, so the caller may destroy what the subscriber captured.
  if (std::this_thread::get_id() != publisher_id) std::lock_guard<std::mutex> wait(publish_mu);
}

void StoreCore::on_commit(CommitObserver observer) {
  std::lock_guard<std::mutex> lock(subscribers_mu);
  commit_observer = std::move(observer);
}

Status StoreCore::last_write_status() const {
  // A nearly full log refuses big batches and takes small ones: one success says little about the next
  // write, so a failure is reported for a while after it (health checks would flap otherwise).
  constexpr std::chrono::seconds kFailureRemembered{10};
  std::lock_guard<std::mutex> lock(last_write_mu);
  if (!last_write) return last_write;
  if (!last_failure && std::chrono::steady_clock::now() - last_failure_at < kFailureRemembered)
    return last_failure;
  return last_write;
}

void StoreCore::start(std::function<void()> writer_loop, std::function<void()> publisher_loop) {
  writer = std::thread([loop = std::move(writer_loop)] {
    pthread_setname_np(pthread_self(), "voxlog.writer");  // for top -H and tools/bench/thread_cpu.sh
    loop();
  });
  publisher = std::thread([loop = std::move(publisher_loop)] {
    pthread_setname_np(pthread_self(), "voxlog.publish");
    loop();
  });
  publisher_id = publisher.get_id();
}

void StoreCore::stop() {
  {
    std::lock_guard<std::mutex> lock(queue_mu);
    stopping = true;
  }
  queue_cv.notify_all();
  if (writer.joinable()) writer.join();  // writes what is pending, then lets the publisher end
  if (publisher.joinable()) publisher.join();
}

bool StoreCore::take_batch(std::vector<PendingAppend>* batch) {
  std::unique_lock<std::mutex> lock(queue_mu);
  queue_cv.wait(lock, [this] { return stopping || !queue.empty(); });
  if (queue.empty()) return false;  // stopping, and everything pending has been written
  std::size_t events = 0;
  while (!queue.empty()) {
    std::size_t n = queue.front().request.events.size();
    if (!batch->empty() && events + n > options.max_batch) break;
    events += n;
    batch->push_back(std::move(queue.front()));
    queue.pop_front();
  }
  return true;
}

void StoreCore::note_write(const Status& outcome) {
  std::lock_guard<std::mutex> lock(last_write_mu);
  last_write = outcome;
  if (!outcome) {
    last_failure = outcome;
    last_failure_at = std::chrono::steady_clock::now();
  }
}

void StoreCore::fail_all(const std::vector<PendingAppend>& batch, const Status& failure,
                         std::vector<Result<AppendResult>>* answers) {
  answers->clear();
  for (const PendingAppend& p : batch) answers->push_back(p.precheck ? failure : p.precheck);
}

void StoreCore::run_subscribers(const std::shared_ptr<const std::vector<Event>>& events,
                                CommitObserver* observer) {
  // publish_mu is taken before the subscriber list is copied: once unsubscribe() has waited for it, no
  // copy holding the removed subscriber exists any more.
  std::lock_guard<std::mutex> publishing(publish_mu);
  std::vector<Subscriber> targets;
  {
    std::lock_guard<std::mutex> lock(subscribers_mu);
    for (auto& entry : subscribers) targets.push_back(entry.second);
    if (observer) *observer = commit_observer;
  }
  if (events->empty()) return;
  for (auto& s : targets) s(events);
}

}  // namespace voxlog
