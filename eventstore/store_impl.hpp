// LmdbEventStore::Impl: the state shared by the store's translation units (store.cpp: open;
// store_writer.cpp: the writer and publisher threads; store_read.cpp: reads and stats; store_verify.cpp:
// verify). The append queue, the threads' hand-over and the subscribers are StoreCore's (store_core.hpp).
//
// Contract: private to eventstore/. The writer thread is the only code that begins write transactions
// and the only code that resizes the map; it does so holding `resize_mu` exclusively, while every read
// transaction holds it shared for its whole life (LMDB forbids mdb_env_set_mapsize with a live txn).
//
// Thread-safety: fields are guarded as commented; everything else is set in open() and then immutable.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "eventstore/lmdb_handle.hpp"
#include "eventstore/lmdb_store.hpp"
#include "eventstore/store_core.hpp"
#include "eventstore/store_index.hpp"

namespace voxlog {

// A read transaction plus the shared hold on the map size that it needs.
class ReadTxn {
 public:
  ReadTxn(std::shared_lock<std::shared_mutex> hold, lmdb_handle::Txn txn)
      : hold_(std::move(hold)), txn_(std::move(txn)) {}
  MDB_txn* get() const { return txn_.get(); }

 private:
  std::shared_lock<std::shared_mutex> hold_;  // declared first: released after the txn ends
  lmdb_handle::Txn txn_;
};

// The queue, threads, subscribers and last write's outcome are StoreCore's (store_core.hpp).
struct LmdbEventStore::Impl : StoreCore {
  std::string dir;
  MDB_env* env = nullptr;
  MDB_dbi events_dbi = 0, streams_dbi = 0, dedupe_dbi = 0, meta_dbi = 0;

  mutable std::shared_mutex resize_mu;
  std::atomic<std::uint64_t> last_seq{0};

  IndexTail tail;      // writer thread only (and open(), before it starts)
  RecentIndex recent;  // written by the writer, read by this process's readers (null when read-only)

  std::condition_variable written_cv;  // with written_mu: a batch was written, or the writer is done

  ~Impl();

  IndexDbis index_dbis() const { return {events_dbi, streams_dbi, dedupe_dbi, meta_dbi}; }
  Result<ReadTxn> begin_read() const;
  // The last seq and meta `indexed` as of `txn`.
  Result<std::uint64_t> last_seq_in(MDB_txn* txn) const;
  Result<TailBounds> tail_bounds(MDB_txn* txn) const;
  const RecentIndex* recent_for_readers() const { return options.read_only ? nullptr : &recent; }
  Status open_databases();

  // Writer side (store_writer.cpp).
  void writer_loop();
  WrittenBatch commit_batch(std::vector<PendingAppend> batch);
  Status write_batch(std::vector<PendingAppend>& batch, std::vector<Result<AppendResult>>* answers,
                     bool* map_full);
  Status grow_map();
  void publisher_loop();
  void publish(WrittenBatch& batch);
};

}  // namespace voxlog
