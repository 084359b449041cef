// Minimal RAII over the LMDB C API, used by the event store only.
//
// Contract: Txn aborts on destruction unless committed; Cursor closes on destruction (declare it after
// its Txn so it dies first). lmdb_status() turns an LMDB return code into voxlog's Status with a message
// naming the operation. The event store uses the C API directly rather than lmdb++ so that every byte
// it stores is an explicit (pointer, length) pair.
//
// Thread-safety: a Txn and its Cursors belong to one thread at a time (the env is opened MDB_NOTLS, so a
// read Txn may move between threads, but never be used by two at once).
#pragma once

#include <lmdb.h>

#include <string>
#include <string_view>
#include <utility>

#include "eventstore/status.hpp"

namespace voxlog::lmdb_handle {

inline MDB_val to_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view to_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// "mdb_put events: MDB_MAP_FULL: Environment mapsize limit reached" with the matching StatusCode.
Status lmdb_status(const std::string& what, int rc);

class Txn {
 public:
  Txn() = default;
  explicit Txn(MDB_txn* txn) : txn_(txn) {}
  ~Txn() { abort(); }
  Txn(Txn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)) {}
  Txn& operator=(Txn&& other) noexcept {
    abort();
    txn_ = std::exchange(other.txn_, nullptr);
    return *this;
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  MDB_txn* get() const { return txn_; }
  void abort() {
    if (txn_) mdb_txn_abort(std::exchange(txn_, nullptr));
  }
  // LMDB frees the transaction whether the commit succeeds or not.
  int commit() { return mdb_txn_commit(std::exchange(txn_, nullptr)); }

 private:
  MDB_txn* txn_ = nullptr;
};

class Cursor {
 public:
  Cursor() = default;
  ~Cursor() {
    if (cursor_) mdb_cursor_close(cursor_);
  }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  int open(MDB_txn* txn, MDB_dbi dbi) { return mdb_cursor_open(txn, dbi, &cursor_); }
  // Positions the cursor; on success key/value views point into the map until the Txn ends.
  int get(MDB_val* key, MDB_val* value, MDB_cursor_op op) { return mdb_cursor_get(cursor_, key, value, op); }

 private:
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace voxlog::lmdb_handle
