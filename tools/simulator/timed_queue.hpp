// A queue of tasks that run at a given time on a small pool of worker threads.
//
// Contract: `run_after` may be called from any thread, including from a task. Tasks whose due time has
// come run in due-time order on one of the workers; several tasks may run at the same time on different
// workers, so a task that touches shared state locks it. A task may block (the simulator's webhook POSTs
// do); it only holds up its own worker. `stop()` (also run by the destructor) drops the tasks not yet
// started, waits for the running ones, and joins the workers; `run_after` after `stop` does nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace voxlog::sim {

class TimedQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void()>;

  explicit TimedQueue(int workers);
  ~TimedQueue();
  TimedQueue(const TimedQueue&) = delete;
  TimedQueue& operator=(const TimedQueue&) = delete;

  void run_after(Clock::duration delay, Task task);
  void stop();

 private:
  struct Entry {
    Clock::time_point due;
    uint64_t order;  // keeps tasks with the same due time in submission order
    Task task;
    bool operator>(const Entry& other) const {
      return due != other.due ? due > other.due : order > other.order;
    }
  };

  void work();

  std::mutex mutex_;
  std::condition_variable wakeup_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> entries_;
  uint64_t next_order_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace voxlog::sim
