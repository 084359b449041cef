// StoreCore: what both log backends (LMDB, PostgreSQL) keep and do the same way, apart from where the log
// lives: the queue of pending appends and the writer that drains it, the hand-over of written batches to
// the publisher thread, the subscribers, and how the latest write ended. Each backend's Impl derives from
// it and adds its own storage, writer_loop and publisher_loop.
//
// Contract: private to eventstore/. enqueue() is the one door of an append (the backend's append() and
// append_sync() both come through it); take_batch() is the only way a writer takes work; run_subscribers()
// the only way events reach subscribers. start() and stop() bracket the two threads; stop() drains the
// queue (the writer commits what is pending) before it returns, and must run before the backend's storage
// is closed.
//
// Thread-safety: fields are guarded as commented; `options` and `name` are set in open() and then
// immutable. enqueue, append_sync, subscribe, unsubscribe, on_commit and last_write_status may be called
// from any thread; take_batch from the writer only; run_subscribers from the publisher only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/append_queue.hpp"
#include "eventstore/store.hpp"

namespace voxlog {

struct StoreCore {
  using AppendCallback = EventStore::AppendCallback;
  using Subscriber = EventStore::Subscriber;
  using CommitObserver = EventStore::CommitObserver;

  StoreOptions options;
  std::string name;  // how refusals name the log: "event store <dir>", "the log at <redacted url>"

  std::atomic<std::uint64_t> commits{0};
  mutable std::mutex last_write_mu;
  Status last_write;    // guarded by last_write_mu; set by the writer after each write transaction
  Status last_failure;  // guarded by last_write_mu: the latest write transaction that committed nothing
  std::chrono::steady_clock::time_point last_failure_at;  // guarded by last_write_mu

  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<PendingAppend> queue;  // guarded by queue_mu
  bool stopping = false;            // guarded by queue_mu
  std::thread writer;

  // The publisher answers appenders and runs subscribers while the writer commits the next batch.
  std::mutex written_mu;
  std::deque<WrittenBatch> written;  // guarded by written_mu; in commit order
  bool writer_done = false;          // guarded by written_mu
  std::thread publisher;
  std::thread::id publisher_id;

  std::mutex subscribers_mu;
  std::map<std::uint64_t, Subscriber> subscribers;  // guarded by subscribers_mu
  std::uint64_t next_subscriber_id = 1;             // guarded by subscribers_mu
  CommitObserver commit_observer;                   // guarded by subscribers_mu
  std::mutex publish_mu;  // held while subscribers run, so unsubscribe() can wait them out

  // EventStore's members of the same names.
  void enqueue(AppendRequest request, AppendCallback done);
  Result<AppendResult> append_sync(AppendRequest request);
  std::uint64_t subscribe(Subscriber subscriber);
  void unsubscribe(std::uint64_t id);
  void on_commit(CommitObserver observer);
  Status last_write_status() const;

  // Starts the writer and publisher threads (named for top -H and tools/bench/thread_cpu.sh).
  void start(std::function<void()> writer_loop, std::function<void()> publisher_loop);
  // Refuses new appends, lets the writer commit what is pending, and joins both threads.
  void stop();

  // Writer: waits for pending appends and moves whole requests, at most options.max_batch events (at least
  // one request), into `batch`. False once stopping with nothing left: the writer should end.
  bool take_batch(std::vector<PendingAppend>* batch);
  // Writer: records how a write transaction ended, for last_write_status().
  void note_write(const Status& outcome);
  // Writer: the answers of a batch that committed nothing: each request's own refusal, else `failure`.
  static void fail_all(const std::vector<PendingAppend>& batch, const Status& failure,
                       std::vector<Result<AppendResult>>* answers);

  // Publisher: runs every subscriber on `events` (none when empty). With `observer`, also copies the
  // commit observer as of then, for the caller to run after the subscribers have let go of publish_mu.
  void run_subscribers(const std::shared_ptr<const std::vector<Event>>& events,
                       CommitObserver* observer = nullptr);
};

}  // namespace voxlog
