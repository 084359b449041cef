#include "http/request_gate.hpp"

#include <algorithm>
#include <thread>

namespace voxlog {

std::shared_ptr<void> RequestGate::enter() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return nullptr;
  ++in_flight_;
  auto self = shared_from_this();  // the gate outlives every token
  return std::shared_ptr<void>(self.get(), [self](void*) { self->leave(); });
}

void RequestGate::leave() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (--in_flight_ == 0) idle_.notify_all();
}

void RequestGate::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
}

bool RequestGate::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

void RequestGate::refused() {
  std::lock_guard<std::mutex> lock(mutex_);
  last_refusal_ = std::chrono::steady_clock::now();
}

void RequestGate::wait_quiet(std::chrono::milliseconds quiet, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point quiet_from;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quiet_from = last_refusal_ + quiet;
    }
    if (now >= quiet_from || now >= deadline) return;
    std::this_thread::sleep_until(std::min(quiet_from, deadline));
  }
}

bool RequestGate::wait_idle(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mutex_);
  return idle_.wait_for(lock, limit, [this] { return in_flight_ == 0; });
}

}  // namespace voxlog
