// LMDB's lock file, allocated on disk before an environment opens.
//
// Contract: reserve_lock_file(dir) makes sure dir/lock.mdb exists with every block of its first 64 KiB
// allocated. LMDB maps that file and grows it with ftruncate, which leaves it sparse: on a full disk the
// first write to an unallocated page of the mapping kills the process with SIGBUS (a start-up on a full
// disk did exactly that). With the blocks reserved beforehand, a full disk is an error LMDB returns.
// Returns resource_exhausted naming the file when the disk has no room for it; other failures (a file
// system without fallocate, a read-only one) are left to LMDB. Called by LmdbEventStore::open and
// CallsView::open.
//
// Thread-safety: a free function; call it before mdb_env_open.
#pragma once

#include <string>

#include "eventstore/status.hpp"

namespace voxlog {

Status reserve_lock_file(const std::string& dir);

}  // namespace voxlog
