// Thread classes: which of voxlogd's threads the kernel should run first when the cores are contended.
//
// Two classes. Answering (every thread on a webhook's path: the HTTP io thread, CAF's workers, the log's
// writer and publisher) must answer Twilio quickly; fan-out (the live subscribers' io threads,
// live_socket.hpp) moves many bytes and can wait a little. On Linux's EEVDF scheduler (6.6 and later) a
// thread that wakes does not preempt the running one before that one's slice is used up, unless it asks
// for a shorter slice itself (the default slice is 1.4 ms on this 2-vCPU machine: se.slice in
// /proc/self/sched). With the fan-out busy, each step of a webhook's path could wait up to a slice for a
// core. A short requested slice (6.12 and later: sched_setattr's sched_runtime for
// SCHED_OTHER) lets a waking answering thread take the core at once; it gets no more CPU than before (the
// share is still set by nice), only sooner and in shorter turns. The fan-out threads also run at nice 5:
// under sustained contention they get about a third of an answering thread's share.
//
// Contract: call `become_answering_thread()` on main before any thread starts (threads inherit the
// setting); each fan-out thread calls `become_fan_out_thread()` first thing. Both are best effort: on a
// kernel without slices (or any refusal) the thread keeps the default, and voxlogd works the same,
// only with the longer tail. Thread-safety: each affects the calling thread only.
#pragma once

#include <chrono>

namespace voxlog {

// The slice an answering thread asks for: the kernel's smallest (0.1 ms).
inline constexpr std::chrono::microseconds kAnsweringSlice{100};
inline constexpr int kFanOutNice = 5;

// True when the kernel took the short slice.
bool become_answering_thread();
// The default slice, nice kFanOutNice (or the nice voxlogd was started with, if higher). True when the
// kernel took both.
bool become_fan_out_thread();

}  // namespace voxlog
