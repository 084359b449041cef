#include "eventstore/lock_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace voxlog {

// LMDB's own lock file is 8 KiB with its default 126 readers; a larger one only allows more readers.
constexpr off_t kLockFileBytes = 64 << 10;

Status reserve_lock_file(const std::string& dir) {
  std::string path = dir + "/lock.mdb";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::ok();  // LMDB will say why it cannot open it either
  int rc = ::posix_fallocate(fd, 0, kLockFileBytes);
  ::close(fd);
  if (rc == ENOSPC || rc == EDQUOT)
    return resource_exhausted("no room on the disk for " + path + " (" + std::strerror(rc) +
                              "): free some space and start again");
  return Status::ok();
}

}  // namespace voxlog
