// PgEventStore::leadership: a claim held as a session advisory lock (leadership.hpp). Why a session lock
// and not a lease row with an expiry: the database ends the claim exactly when the holder's session ends
// (a killed node's socket closes at once; a silent one is cut by TCP keepalives, ~11 s), no clock is
// trusted, and nothing has to be renewed. A failover ends every session on the old primary, so the claim
// is taken again on the new one by whichever node asks first.
#include <cstdint>
#include <mutex>

#include "eventstore/pg_store_impl.hpp"

namespace voxlog {
namespace {

// FNV-1a over the name: a stable 64-bit advisory lock key, the same on every node.
std::int64_t lock_key(const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : "voxlog:" + name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<std::int64_t>(h);
}

class PgLeadership final : public Leadership {
 public:
  PgLeadership(std::string url, std::string shown, const std::string& name)
      : url_(std::move(url)), shown_(std::move(shown)), key_(std::to_string(lock_key(name))) {}

  bool hold() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!conn_.usable()) {
      held_ = false;
      auto conn = pg::Conn::connect(url_, shown_, "voxlog leadership");
      if (!conn) return false;
      conn_ = std::move(conn).value();
    }
    if (held_) {
      // Still the same session, so still the same lock: a round trip proves the session is alive.
      if (conn_.exec("SELECT 1", "leadership check")) return true;
      return lost();
    }
    auto taken = conn_.exec("SELECT pg_try_advisory_lock($1::bigint)", {key_}, "leadership");
    if (!taken) return lost();
    held_ = taken->size() == 1 && taken->text(0, 0) == "t";
    return held_;
  }

  void release() override {
    std::lock_guard<std::mutex> lock(mu_);
    // Unlocked before the session ends: the server frees a closed session's locks only once its backend
    // has noticed and exited, and the next node should not have to wait for that.
    if (held_ && conn_.usable()) (void)conn_.exec("SELECT pg_advisory_unlock_all()", "leadership release");
    conn_ = pg::Conn();
    held_ = false;
  }

  bool contested() const override { return true; }

 private:
  bool lost() {
    conn_ = pg::Conn();
    held_ = false;
    return false;
  }

  const std::string url_;  // secret: may hold the password
  const std::string shown_;
  const std::string key_;
  std::mutex mu_;
  pg::Conn conn_;      // guarded by mu_
  bool held_ = false;  // guarded by mu_
};

}  // namespace

std::unique_ptr<Leadership> PgEventStore::leadership(const std::string& name) const {
  return std::make_unique<PgLeadership>(impl_->url, impl_->shown, name);
}

}  // namespace voxlog
