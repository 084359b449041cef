// Test helpers that reach under the event store with the LMDB C API, to damage it on purpose.
//
// Contract: tests only; call while no EventStore has the directory open.
// Thread-safety: none needed.
#pragma once

#include <lmdb.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace voxlog::test {

// Opens the env in `dir`, runs fn in a write transaction on the named database (nullptr: the main
// one, created if `create`), and commits.
inline void with_raw_dbi(const std::string& dir, const char* name, bool create,
                         const std::function<void(MDB_txn*, MDB_dbi)>& fn) {
  MDB_env* env = nullptr;
  auto check = [&](int rc, const char* what) {
    if (rc != 0) {
      if (env) mdb_env_close(env);
      throw std::runtime_error(std::string(what) + ": " + mdb_strerror(rc));
    }
  };
  check(mdb_env_create(&env), "mdb_env_create");
  mdb_env_set_maxdbs(env, 8);
  check(mdb_env_set_mapsize(env, std::size_t{1} << 30), "mdb_env_set_mapsize");
  check(mdb_env_open(env, dir.c_str(), 0, 0644), "mdb_env_open");
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
  MDB_dbi dbi;
  int rc = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, &dbi);
  if (rc != 0) mdb_txn_abort(txn);
  check(rc, "mdb_dbi_open");
  fn(txn, dbi);
  check(mdb_txn_commit(txn), "mdb_txn_commit");
  mdb_env_close(env);
}

inline std::string seq_key_bytes(std::uint64_t seq) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i, seq >>= 8) k[i] = static_cast<char>(seq & 0xff);
  return k;
}

// Flips one byte of the stored value of event `seq` (offset counted from the end, inside data).
inline void flip_event_byte(const std::string& dir, std::uint64_t seq, std::size_t from_end = 2) {
  with_raw_dbi(dir, "events", false, [&](MDB_txn* txn, MDB_dbi dbi) {
    std::string key = seq_key_bytes(seq);
    MDB_val k{key.size(), key.data()}, v;
    if (mdb_get(txn, dbi, &k, &v) != 0) throw std::runtime_error("event to damage not found");
    std::string value(static_cast<const char*>(v.mv_data), v.mv_size);
    value[value.size() - from_end] ^= 0x20;
    MDB_val nv{value.size(), value.data()};
    if (mdb_put(txn, dbi, &k, &nv, 0) != 0) throw std::runtime_error("mdb_put failed");
  });
}

}  // namespace voxlog::test
