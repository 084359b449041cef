#include "tools/simulator/timed_queue.hpp"

namespace voxlog::sim {

TimedQueue::TimedQueue(int workers) {
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
}

TimedQueue::~TimedQueue() {
  stop();
}

void TimedQueue::run_after(Clock::duration delay, Task task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    entries_.push(Entry{Clock::now() + delay, next_order_++, std::move(task)});
  }
  wakeup_.notify_one();
}

void TimedQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    entries_ = {};
  }
  wakeup_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

void TimedQueue::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (entries_.empty()) {
      wakeup_.wait(lock);
      continue;
    }
    Clock::time_point due = entries_.top().due;
    if (Clock::now() < due) {
      wakeup_.wait_until(lock, due);
      continue;
    }
    Task task = std::move(const_cast<Entry&>(entries_.top()).task);
    entries_.pop();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace voxlog::sim
