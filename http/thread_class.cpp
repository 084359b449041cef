#include "http/thread_class.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace voxlog {
namespace {

// struct sched_attr (include/uapi/linux/sched/types.h); glibc 2.36 has no wrapper for sched_setattr.
struct SchedAttr {
  std::uint32_t size = sizeof(SchedAttr);
  std::uint32_t policy = 0;  // SCHED_OTHER
  std::uint64_t flags = 0;
  std::int32_t nice = 0;
  std::uint32_t priority = 0;
  std::uint64_t runtime_ns = 0;  // for SCHED_OTHER: the requested slice (0: the kernel's default)
  std::uint64_t deadline_ns = 0;
  std::uint64_t period_ns = 0;
};

bool set_this_thread(int nice, std::uint64_t slice_ns) {
  SchedAttr attr;
  attr.nice = nice;
  attr.runtime_ns = slice_ns;
  return syscall(SYS_sched_setattr, 0, &attr, 0u) == 0;
}

}  // namespace

bool become_answering_thread() {
  int nice = getpriority(PRIO_PROCESS, 0);  // keep whatever nice voxlogd was started with
  return set_this_thread(nice, std::chrono::nanoseconds(kAnsweringSlice).count());
}

bool become_fan_out_thread() {
  // Never above the priority voxlogd was started with (a lower nice needs privileges).
  int nice = std::max(kFanOutNice, getpriority(PRIO_PROCESS, 0));
  if (set_this_thread(nice, 0)) return true;
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);  // no sched_setattr
  return false;
}

}  // namespace voxlog
