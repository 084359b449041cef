// wake_cost: what the machine charges for the two kernel services voxlogd leans on most, so that the
// kernel's share of its CPU can be read against them (tools/bench/README.md). Prints:
//  - a null system call (getppid through syscall(2), so no libc caching), averaged over 1,000,000 calls;
//  - a wake-up handed between two threads through a mutex and condition variable (the way the log
//    writer, publisher and projector are woken), averaged over 100,000 round trips of two wake-ups each,
//    with the threads free to run on any CPU, then both pinned to CPU 0.
// Usage: wake_cost (no arguments). Compare against bare metal, where the first is ~0.1 us.
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

double syscall_us() {
  constexpr int kCalls = 1000000;
  auto start = Clock::now();
  for (int i = 0; i < kCalls; ++i) syscall(SYS_getppid);
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kCalls;
}

void pin_to_cpu0() {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// Microseconds per wake-up: each round trip wakes the other thread and is woken back.
double wake_us(bool same_cpu) {
  constexpr int kRoundTrips = 100000;
  std::mutex mu;
  std::condition_variable cv;
  bool ball_with_partner = false;
  std::thread partner([&] {
    if (same_cpu) pin_to_cpu0();
    for (int i = 0; i < kRoundTrips; ++i) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return ball_with_partner; });
      ball_with_partner = false;
      cv.notify_all();
    }
  });
  if (same_cpu) pin_to_cpu0();
  auto start = Clock::now();
  for (int i = 0; i < kRoundTrips; ++i) {
    std::unique_lock<std::mutex> lock(mu);
    ball_with_partner = true;
    cv.notify_all();
    cv.wait(lock, [&] { return !ball_with_partner; });
  }
  double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / (2.0 * kRoundTrips);
  partner.join();
  return us;
}

}  // namespace

int main() {
  std::printf("null system call (getppid):              %.2f us\n", syscall_us());
  std::printf("thread wake-up, any CPU (cond. variable): %.2f us\n", wake_us(false));
  std::printf("thread wake-up, same CPU:                 %.2f us\n", wake_us(true));
}
