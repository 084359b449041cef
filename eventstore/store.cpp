// LmdbEventStore: opening the LMDB environment. Appends and subscribers go through StoreCore
// (store_core.cpp), the single writer (group commit) is store_writer.cpp, reads store_read.cpp, verify()
// store_verify.cpp; the byte layout is codec.cpp and FORMAT.md.
#include "eventstore/lmdb_store.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "eventstore/codec.hpp"
#include "eventstore/data_json.hpp"
#include "eventstore/lock_file.hpp"
#include "eventstore/store_impl.hpp"

namespace voxlog {

using lmdb_handle::lmdb_status;
using lmdb_handle::to_val;
using lmdb_handle::to_view;
using lmdb_handle::Txn;
namespace fs = std::filesystem;

namespace lmdb_handle {
Status lmdb_status(const std::string& what, int rc) {
  std::string msg = what + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_MAP_FULL: return resource_exhausted(msg + " (map full)");
    case ENOSPC:
    case EDQUOT: return resource_exhausted(msg + " (disk full)");
    case EFBIG: return resource_exhausted(msg + " (file size limit reached)");
    // A write or flush that failed: nothing became durable, and it may succeed once the disk has room.
    case EIO: return unavailable(msg + " (the disk may be full or failing)");
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND: return data_loss(msg);
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH: return failed_precondition(msg);
    default: return internal_error(msg);
  }
}
}  // namespace lmdb_handle

namespace {

constexpr const char* kDataFile = "data.mdb";
constexpr const char* kLockFile = "lock.mdb";
constexpr std::uint32_t kLmdbMagic = 0xBEEFC0DE;
constexpr std::size_t kLmdbMagicOffset = 16;  // page header (16 bytes) then MDB_meta.mm_magic

// Refuses a directory that holds anything but LMDB's two files, and a data.mdb that is not LMDB,
// before LMDB touches either: LMDB would create lock.mdb next to a foreign file.
Status check_directory(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto name = entry.path().filename().string();
    if (name != kDataFile && name != kLockFile) {
      return failed_precondition(dir.string() + " holds '" + name +
                                 "', which is not part of a voxlog event store; refusing to use it");
    }
  }
  if (ec) return failed_precondition("cannot list " + dir.string() + ": " + ec.message());
  fs::path data = dir / kDataFile;
  if (!fs::exists(data, ec)) return Status::ok();
  if (!fs::is_regular_file(data, ec)) {
    return failed_precondition(data.string() + " is not a regular file; refusing to use it");
  }
  auto size = fs::file_size(data, ec);
  if (ec) return failed_precondition("cannot stat " + data.string() + ": " + ec.message());
  if (size == 0) return Status::ok();  // a creation that died before its first write: start afresh
  std::ifstream in(data, std::ios::binary);
  char header[kLmdbMagicOffset + 4] = {};
  if (!in.read(header, sizeof header)) {
    return failed_precondition(data.string() + " is too short to be an LMDB file; refusing to use it");
  }
  std::uint32_t magic;
  std::memcpy(&magic, header + kLmdbMagicOffset, 4);  // LMDB writes it in native byte order
  if (magic != kLmdbMagic) {
    return failed_precondition(data.string() + " is not an LMDB file (bad magic); refusing to use it");
  }
  return Status::ok();
}

// LMDB maps the file and trusts its meta page: a data.mdb cut short (a bad copy, a full disk outside
// LMDB's control) would crash the process with SIGBUS on the first read past its end. Refuse it instead.
Status check_not_truncated(MDB_env* env, const fs::path& data) {
  MDB_envinfo info;
  MDB_stat stat;
  if (int rc = mdb_env_info(env, &info); rc != 0) return lmdb_status("mdb_env_info", rc);
  if (int rc = mdb_env_stat(env, &stat); rc != 0) return lmdb_status("mdb_env_stat", rc);
  std::error_code ec;
  auto size = fs::file_size(data, ec);
  if (ec) return failed_precondition("cannot stat " + data.string() + ": " + ec.message());
  std::uint64_t needed = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
  if (size < needed) {
    return data_loss(data.string() + " is truncated: " + std::to_string(size) + " bytes, its pages need " +
                     std::to_string(needed) + "; refusing to use it");
  }
  return Status::ok();
}

}  // namespace

LmdbEventStore::Impl::~Impl() {
  if (env) mdb_env_close(env);
}

Result<ReadTxn> LmdbEventStore::Impl::begin_read() const {
  for (;;) {
    std::shared_lock<std::shared_mutex> hold(resize_mu);
    MDB_txn* raw = nullptr;
    int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &raw);
    if (rc == 0) return ReadTxn(std::move(hold), Txn(raw));
    if (rc != MDB_MAP_RESIZED) return lmdb_status("mdb_txn_begin (read)", rc);
    // Another process grew the map: adopt its size, with no transaction of ours alive.
    hold.unlock();
    std::unique_lock<std::shared_mutex> exclusive(resize_mu);
    if (int rc2 = mdb_env_set_mapsize(env, 0); rc2 != 0) return lmdb_status("mdb_env_set_mapsize", rc2);
  }
}

Status LmdbEventStore::Impl::open_databases() {
  const std::string path = (fs::path(dir) / kDataFile).string();
  MDB_txn* raw = nullptr;
  if (int rc = mdb_txn_begin(env, nullptr, options.read_only ? MDB_RDONLY : 0, &raw); rc != 0) {
    return lmdb_status("mdb_txn_begin " + path, rc);
  }
  Txn txn(raw);
  MDB_dbi main_dbi;
  if (int rc = mdb_dbi_open(txn.get(), nullptr, 0, &main_dbi); rc != 0) {
    return lmdb_status("mdb_dbi_open main " + path, rc);
  }
  MDB_stat main_stat;
  mdb_stat(txn.get(), main_dbi, &main_stat);
  int rc = mdb_dbi_open(txn.get(), "meta", 0, &meta_dbi);
  bool fresh = false;
  if (rc == MDB_NOTFOUND) {
    if (main_stat.ms_entries != 0) {
      return failed_precondition(path +
                                 " is an LMDB environment but not a voxlog event store (no 'meta' "
                                 "database); refusing to use it");
    }
    if (options.read_only) return not_found("no event store in " + dir + " (empty environment)");
    fresh = true;
  } else if (rc != 0) {
    return lmdb_status("mdb_dbi_open meta " + path, rc);
  }
  bool upgrade = false;  // format 1 indexed every event as it was written: mark them all indexed
  char format[4];
  std::uint32_t format_version = codec::kFormatVersion;
  std::memcpy(format, &format_version, 4);  // host order; FORMAT.md says little-endian (x86, arm64)
  MDB_val magic_key = to_val(codec::kMetaMagicKey), format_key = to_val(codec::kMetaFormatKey);
  if (fresh) {
    if (int rc2 = mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &meta_dbi); rc2 != 0) {
      return lmdb_status("mdb_dbi_open meta " + path, rc2);
    }
    MDB_val magic = to_val(codec::kMetaMagic), fmt = to_val({format, 4});
    if (int rc2 = mdb_put(txn.get(), meta_dbi, &magic_key, &magic, 0); rc2 != 0) {
      return lmdb_status("mdb_put meta " + path, rc2);
    }
    if (int rc2 = mdb_put(txn.get(), meta_dbi, &format_key, &fmt, 0); rc2 != 0) {
      return lmdb_status("mdb_put meta " + path, rc2);
    }
  } else {
    MDB_val magic, fmt;
    if (mdb_get(txn.get(), meta_dbi, &magic_key, &magic) != 0 || to_view(magic) != codec::kMetaMagic) {
      return failed_precondition(path +
                                 " has a 'meta' database without the voxlog event store magic; "
                                 "refusing to use it");
    }
    if (mdb_get(txn.get(), meta_dbi, &format_key, &fmt) != 0 || fmt.mv_size != 4) {
      return data_loss(path + ": meta has no valid format version");
    }
    std::uint32_t stored;
    std::memcpy(&stored, fmt.mv_data, 4);
    if (stored < codec::kOldestReadableFormat || stored > codec::kFormatVersion) {
      return failed_precondition(
          path + " has format version " + std::to_string(stored) + "; this build reads versions " +
          std::to_string(codec::kOldestReadableFormat) + " to " + std::to_string(codec::kFormatVersion));
    }
    upgrade = stored < codec::kFormatVersion && !options.read_only;
  }
  unsigned create = fresh ? MDB_CREATE : 0;
  const std::pair<const char*, MDB_dbi*> dbis[] = {
      {"events", &events_dbi}, {"streams", &streams_dbi}, {"dedupe", &dedupe_dbi}};
  for (auto [name, handle] : dbis) {
    if (int rc2 = mdb_dbi_open(txn.get(), name, create, handle); rc2 != 0) {
      if (rc2 == MDB_NOTFOUND) return data_loss(path + ": the '" + name + "' database is missing");
      return lmdb_status(std::string("mdb_dbi_open ") + name + " " + path, rc2);
    }
  }
  // A cursor must not outlive its write transaction's commit: last_seq_in closes its own.
  auto last = last_seq_in(txn.get());
  if (!last) return last.status();
  last_seq = *last;
  if (fresh || upgrade) {
    std::string indexed = codec::seq_key(last_seq.load());
    MDB_val indexed_key = to_val(codec::kMetaIndexedKey), indexed_value = to_val(indexed);
    MDB_val fmt = to_val({format, 4});
    if (int rc2 = mdb_put(txn.get(), meta_dbi, &indexed_key, &indexed_value, 0); rc2 != 0) {
      return lmdb_status("mdb_put meta " + path, rc2);
    }
    if (int rc2 = mdb_put(txn.get(), meta_dbi, &format_key, &fmt, 0); rc2 != 0) {
      return lmdb_status("mdb_put meta " + path, rc2);
    }
  }
  if (int rc2 = txn.commit(); rc2 != 0) return lmdb_status("mdb_txn_commit (open) " + path, rc2);
  return Status::ok();
}

Result<std::unique_ptr<EventStore>> LmdbEventStore::open(const std::string& dir, StoreOptions options) {
  if (options.max_batch == 0) return invalid_argument("max_batch must be at least 1");
  if (options.index_batch == 0) return invalid_argument("index_batch must be at least 1");
  if (options.initial_map_size == 0) return invalid_argument("initial_map_size must be positive");
  std::error_code ec;
  fs::path path(dir);
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec)) return failed_precondition(dir + " exists and is not a directory");
  } else if (options.read_only) {
    return not_found("no event store at " + dir + " (directory missing)");
  } else if (fs::create_directories(path, ec); ec) {
    return failed_precondition("cannot create " + dir + ": " + ec.message());
  }
  if (Status st = check_directory(path); !st) return st;
  if (Status st = reserve_lock_file(dir); !st) return st;
  if (options.read_only && !fs::exists(path / kDataFile, ec)) {
    return not_found("no event store in " + dir + " (no " + kDataFile + ")");
  }

  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  impl->name = "event store " + dir;
  if (int rc = mdb_env_create(&impl->env); rc != 0) return lmdb_status("mdb_env_create", rc);
  mdb_env_set_maxdbs(impl->env, 8);
  if (int rc = mdb_env_set_mapsize(impl->env, options.initial_map_size); rc != 0) {
    return lmdb_status("mdb_env_set_mapsize", rc);
  }
  unsigned flags = MDB_NOTLS | (options.read_only ? MDB_RDONLY : 0);
  if (int rc = mdb_env_open(impl->env, dir.c_str(), flags, 0644); rc != 0) {
    if (rc == MDB_INVALID) {
      return failed_precondition((path / kDataFile).string() + " is not an LMDB file; refusing to use it");
    }
    return lmdb_status("mdb_env_open " + dir, rc);
  }
  if (Status st = check_not_truncated(impl->env, path / kDataFile); !st) return st;
  if (Status st = impl->open_databases(); !st) return st;
  Impl* raw = impl.get();
  if (!options.read_only) {
    auto txn = raw->begin_read();
    if (!txn) return txn.status();
    if (Status st = raw->tail.load(txn->get(), raw->index_dbis(), raw->last_seq.load()); !st) return st;
    raw->recent.reset(raw->tail.through, raw->tail);
  }
  if (!options.read_only) raw->start([raw] { raw->writer_loop(); }, [raw] { raw->publisher_loop(); });
  return std::unique_ptr<EventStore>(new LmdbEventStore(std::move(impl)));
}

LmdbEventStore::LmdbEventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LmdbEventStore::~LmdbEventStore() {
  impl_->stop();  // writes what is pending, then lets the publisher end
}

const std::string& LmdbEventStore::dir() const {
  return impl_->dir;
}

void LmdbEventStore::append(AppendRequest request, AppendCallback done) {
  impl_->enqueue(std::move(request), std::move(done));
}

Result<AppendResult> LmdbEventStore::append_sync(AppendRequest request) {
  return impl_->append_sync(std::move(request));
}

std::uint64_t LmdbEventStore::subscribe(Subscriber subscriber) {
  return impl_->subscribe(std::move(subscriber));
}

void LmdbEventStore::unsubscribe(std::uint64_t id) {
  impl_->unsubscribe(id);
}

void LmdbEventStore::on_commit(CommitObserver observer) {
  impl_->on_commit(std::move(observer));
}

}  // namespace voxlog
