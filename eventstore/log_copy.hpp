// copy_log and compare_logs: the work behind `voxlog migrate`, which moves a whole log from one backend to
// the other (LMDB <-> PostgreSQL, or to another place on the same backend) with every event unchanged.
//
// Contract:
// - copy_log() writes the source's events 1..`through` into an EMPTY target through the target's own
//   append path: each original append (consecutive events of one stream with the same ts, source and
//   dedupe key) becomes one AppendRequest with that ts, source, key and expected_version. In an empty target
//   that nobody else writes, the store then assigns exactly the source's seqs and versions, and records
//   the key with the original range, so a retried webhook is still answered as a duplicate. Every answer
//   is checked (seqs, version, not a duplicate): the first difference stops the copy with data_loss.
//   Why not a raw import that writes seqs as they are: the append path is where each backend validates
//   names and writes its dedupe table, indexes and counters; going through it keeps one implementation of
//   each, and the target's verify() then proves the copy like any other log.
// - Events go in chunks of `chunk` (appends pipelined; the target's writer commits them in group commits
//   of up to its StoreOptions::max_batch); every answer of a chunk is awaited before the next, so a failure
//   stops the copy within that chunk. A failed copy leaves a valid log in the target, but not necessarily
//   a prefix of the source (an append of the failing chunk may commit after one that failed, at the seq
//   that one should have had): empty the target and copy again. The source is only read.
// - compare_logs() reads both logs page by page and compares every field of every event (data as its
//   compact JSON text), then the counters of stats(). Its digest is the SHA-256 of what `voxlog events`
//   prints for the log, so an operator can check it with `voxlog events | sha256sum`.
//
// Thread-safety: call from one thread. Other threads may read the stores meanwhile; another writer on
// the target makes the copy fail (its seqs would differ).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "eventstore/store.hpp"

namespace voxlog {

struct CopyOptions {
  std::size_t chunk = 10000;  // events read, appended and awaited at a time
  // After each chunk: events copied so far, and how many in all.
  std::function<void(std::uint64_t copied, std::uint64_t total)> progress;
};

// Copies events 1..through of `from` into `to`, which must be empty (failed_precondition naming it
// otherwise). Returns the number of events copied (== through).
Result<std::uint64_t> copy_log(const EventStore& from, EventStore& to, std::uint64_t through,
                               const CopyOptions& options = {});

struct LogSummary {
  std::uint64_t events = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t streams = 0;
  std::uint64_t dedupe_keys = 0;
  std::string sha256;  // hex, of the log as `voxlog events` prints it
};

// The summary of `a` when `a` and `b` hold the same events and counters; data_loss naming the first
// difference otherwise.
Result<LogSummary> compare_logs(const EventStore& a, const EventStore& b, std::size_t page = 10000);

}  // namespace voxlog
