// open_log_read_only(): how every read-only `voxlog` command opens the event store under --data.
//
// Contract: returns the store, or prints "voxlog <command>: <error>" to stderr and returns null.
// Read-only, so a command never creates a store and may run next to a live voxlogd.
//
// Thread-safety: main thread only.
#pragma once

#include <cstdio>
#include <memory>

#include "eventstore/store.hpp"
#include "tools/voxlog/args.hpp"

namespace voxlog::cli {

inline std::unique_ptr<EventStore> open_log_read_only(const Args& args, const char* command) {
  StoreOptions options;
  options.read_only = true;
  auto store = EventStore::open(args.log_dir(), options);
  if (!store.is_ok()) {
    std::fprintf(stderr, "voxlog %s: %s\n", command, store.status().to_string().c_str());
    return nullptr;
  }
  return std::move(store).value();
}

}  // namespace voxlog::cli
