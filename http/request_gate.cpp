#include "http/request_gate.hpp"

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

bool RequestGate::wait_idle(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mutex_);
  return idle_.wait_for(lock, limit, [this] { return in_flight_ == 0; });
}

}  // namespace voxlog
