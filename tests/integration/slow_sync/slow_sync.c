// slow_sync: an LD_PRELOAD library that makes every disk flush slow, as on network block storage, for
// the shutdown tests (shutdown.test.mjs): fdatasync, fsync and msync each sleep first, for a random time
// in VOXLOG_SLOW_SYNC_MS ("MIN-MAX" milliseconds, or "N"; unset: 5-30), then do the real call.
// Test-only; voxlogd knows nothing of it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void delay(void) {
  static int min_ms = -1, max_ms = -1;
  if (min_ms < 0) {
    const char* spec = getenv("VOXLOG_SLOW_SYNC_MS");
    int lo = 5, hi = 30;
    if (spec && *spec) {
      char* end = NULL;
      lo = (int)strtol(spec, &end, 10);
      hi = (end && *end == '-') ? (int)strtol(end + 1, NULL, 10) : lo;
    }
    if (hi < lo) hi = lo;
    max_ms = hi;
    min_ms = lo;
  }
  unsigned seed = (unsigned)(size_t)&seed ^ (unsigned)time(NULL);
  int ms = min_ms + (max_ms > min_ms ? (int)(rand_r(&seed) % (unsigned)(max_ms - min_ms + 1)) : 0);
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  delay();
  return real(fd);
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  delay();
  return real(fd);
}

int msync(void* addr, size_t length, int flags) {
  static int (*real)(void*, size_t, int);
  if (!real) real = (int (*)(void*, size_t, int))dlsym(RTLD_NEXT, "msync");
  delay();
  return real(addr, length, flags);
}
