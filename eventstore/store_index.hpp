// The event store's deferred indexes: `streams` and `dedupe` entries of the newest events (the "tail",
// every seq after meta `indexed`) are kept out of the DBIs and written in bulk, sorted, once the tail
// holds StoreOptions::index_batch events. Live streams and idempotency keys of one call sit next to
// each other in key order, so a bulk write dirties each index page once for many events, where writing
// them per commit dirtied one random page per event and made the sync of every commit four times
// longer (tools/bench/README.md, the event store benchmark).
//
// Contract: private to eventstore/. Readers complete what the DBIs say with the tail's entries, so every
// read sees every committed event: in the writer's process from RecentIndex (a few hash lookups), in
// other processes (read-only tools) by scanning the tail's headers (at most index_batch events).
// IndexTail is the writer's in-memory copy of the tail's entries; only the writer thread touches it.
//
// Thread-safety: the free functions read through the caller's transaction and may run on any thread;
// RecentIndex is internally synchronised.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "eventstore/codec.hpp"
#include "eventstore/status.hpp"
#include "eventstore/store.hpp"

namespace voxlog {

struct IndexTail;

struct IndexDbis {
  MDB_dbi events, streams, dedupe, meta;
};

// The highest seq whose index entries are in the DBIs, as of `txn`. A format-1 store (no `indexed`
// key) has every event indexed: the answer is then `last_seq`.
Result<std::uint64_t> indexed_through(MDB_txn* txn, const IndexDbis& dbis, std::uint64_t last_seq);

// Calls fn for every event after `through`, in seq order, with its header fields (data unparsed) and its
// raw value; stops early when fn returns false.
using TailVisitor =
    std::function<bool(std::uint64_t seq, const codec::EventRecord& rec, std::string_view raw)>;
Status for_each_unindexed(MDB_txn* txn, const IndexDbis& dbis, std::uint64_t through, const TailVisitor& fn);

// The stream's version according to the `streams` DBI alone (0 when it has no indexed event).
Result<std::uint64_t> indexed_stream_version(MDB_txn* txn, MDB_dbi streams, std::string_view stream);

struct VersionSeq {
  std::uint64_t version, seq;
};

// The writer's record of the newest events' index entries, shared with this process's readers so that
// they need not scan the tail. It holds every entry with a seq after covered_after(), kept for two bulk
// writes after its own so that a reader whose snapshot predates a bulk write still finds it. The writer
// adds a batch's entries before its commit (a reader ignores seqs past its snapshot) and withdraws them
// if the commit fails.
class RecentIndex {
 public:
  void reset(std::uint64_t through, const IndexTail& tail);  // at open, before any reader
  void add(std::uint64_t seq, std::string_view stream, std::uint64_t version, std::string_view dedupe);
  void withdraw_from(std::uint64_t seq);    // after a failed commit: entries with seq >= `seq` go
  void indexed_through(std::uint64_t seq);  // after a commit that wrote the DBIs through `seq`

  // Entries with a seq in (after, upto]. False when some of them may be gone: the caller scans instead.
  bool stream_entries(std::string_view stream, std::uint64_t after, std::uint64_t upto,
                      std::vector<VersionSeq>* out) const;
  bool dedupe(std::string_view key, std::uint64_t after, std::uint64_t upto,
              std::optional<AppendResult>* out) const;

 private:
  struct Generation {
    std::uint64_t after = 0;  // its entries have seqs past this
    std::unordered_map<std::string, std::vector<VersionSeq>> streams;
    std::unordered_map<std::string, AppendResult> dedupes;
  };
  static constexpr std::size_t kKeptGenerations = 3;
  mutable std::shared_mutex mu_;
  std::deque<Generation> generations_{Generation{}};  // oldest first; entries are added to the back
};

// What a read transaction sees: its last seq and meta `indexed`.
struct TailBounds {
  std::uint64_t through = 0, last = 0;
};

// The stream's entries after `bounds.through`, in version order: from `recent` when given and complete,
// else by scanning the tail.
Result<std::vector<VersionSeq>> unindexed_stream(MDB_txn* txn, const IndexDbis& dbis,
                                                 const RecentIndex* recent, TailBounds bounds,
                                                 std::string_view stream);

// The stream's current version: indexed, then the tail (0 when the stream has no events).
Result<std::uint64_t> stream_version_in(MDB_txn* txn, const IndexDbis& dbis, const RecentIndex* recent,
                                        TailBounds bounds, std::string_view stream);

// The original answer of the append that used `key`, from the DBI or the tail.
Result<std::optional<AppendResult>> dedupe_in(MDB_txn* txn, const IndexDbis& dbis, const RecentIndex* recent,
                                              TailBounds bounds, std::string_view key);

// Index entries not yet written to the DBIs: the writer's copy of the tail.
struct IndexTail {
  std::uint64_t through = 0;                                // meta `indexed`
  std::map<std::string, std::uint64_t> stream_entries;      // streams key -> seq, in LMDB's key order
  std::unordered_map<std::string, std::uint64_t> versions;  // stream -> its newest version in the tail
  std::map<std::string, AppendResult> dedupes;              // dedupe key -> the original answer

  // Records one committed (or about to be committed) event.
  void add(std::uint64_t seq, std::string_view stream, std::uint64_t version, std::string_view dedupe);
  // Moves everything of `later` (events after ours) into this tail.
  void merge(IndexTail&& later);
  std::size_t events() const { return stream_entries.size(); }

  // Rebuilds the tail from the log after meta `indexed`, when the writer opens the store.
  Status load(MDB_txn* txn, const IndexDbis& dbis, std::uint64_t last_seq);
  // Writes every entry to the DBIs and sets meta `indexed` to `through_seq`, in the caller's write txn.
  // On MDB_MAP_FULL sets *map_full.
  Status write(MDB_txn* txn, const IndexDbis& dbis, std::uint64_t through_seq, bool* map_full) const;
};

}  // namespace voxlog
