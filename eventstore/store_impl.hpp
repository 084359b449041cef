// LmdbEventStore::Impl: the state shared by the store's translation units (store.cpp: open and append;
// store_writer.cpp: the writer and publisher threads;
// store_read.cpp: reads and stats; store_verify.cpp: verify).
//
// Contract: private to eventstore/. The writer thread is the only code that begins write transactions
// and the only code that resizes the map; it does so holding `resize_mu` exclusively, while every read
// transaction holds it shared for its whole life (LMDB forbids mdb_env_set_mapsize with a live txn).
//
// Thread-safety: fields are guarded as commented; everything else is set in open() and then immutable.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "eventstore/append_queue.hpp"
#include "eventstore/lmdb_handle.hpp"
#include "eventstore/lmdb_store.hpp"
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

struct LmdbEventStore::Impl {
  std::string dir;
  StoreOptions options;
  MDB_env* env = nullptr;
  MDB_dbi events_dbi = 0, streams_dbi = 0, dedupe_dbi = 0, meta_dbi = 0;

  mutable std::shared_mutex resize_mu;
  std::atomic<std::uint64_t> last_seq{0};
  std::atomic<std::uint64_t> commits{0};
  mutable std::mutex last_write_mu;
  Status last_write;    // guarded by last_write_mu; set by the writer after each write transaction
  Status last_failure;  // guarded by last_write_mu: the latest write transaction that committed nothing
  std::chrono::steady_clock::time_point last_failure_at;

  IndexTail tail;      // writer thread only (and open(), before it starts)
  RecentIndex recent;  // written by the writer, read by this process's readers (null when read-only)

  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<PendingAppend> queue;  // guarded by queue_mu
  bool stopping = false;            // guarded by queue_mu
  std::thread writer;
  std::thread::id writer_id;

  // The publisher answers appenders and runs subscribers while the writer commits the next batch.
  std::mutex written_mu;
  std::condition_variable written_cv;
  std::deque<WrittenBatch> written;  // guarded by written_mu; in commit order
  bool writer_done = false;          // guarded by written_mu
  std::thread publisher;
  std::thread::id publisher_id;

  std::mutex subscribers_mu;
  std::map<std::uint64_t, Subscriber> subscribers;  // guarded by subscribers_mu
  std::uint64_t next_subscriber_id = 1;             // guarded by subscribers_mu
  CommitObserver commit_observer;                   // guarded by subscribers_mu
  std::mutex publish_mu;  // held while subscribers run, so unsubscribe() can wait them out

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
