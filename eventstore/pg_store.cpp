// PgEventStore: opening the PostgreSQL log and the readers' connection pool. Appends and subscribers go
// through StoreCore (store_core.cpp); the writer is pg_writer.cpp, the publisher pg_publisher.cpp, reads
// pg_read.cpp.
#include "eventstore/pg_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "eventstore/log_url.hpp"
#include "eventstore/pg_store_impl.hpp"

namespace voxlog {

namespace {
constexpr std::size_t kIdleReaders = 4;  // reader connections kept open between reads
}

PgEventStore::Impl::~Impl() {
  for (int fd : wake_pipe)
    if (fd >= 0) ::close(fd);
}

PgEventStore::Impl::Lease::~Lease() {
  if (!conn_.usable()) return;  // a broken connection is dropped; the next lease connects afresh
  std::lock_guard<std::mutex> lock(impl_->pool_mu);
  if (impl_->pool.size() < kIdleReaders) impl_->pool.push_back(std::move(conn_));
}

Result<PgEventStore::Impl::Lease> PgEventStore::Impl::lease() const {
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (!pool.empty()) {
      pg::Conn conn = std::move(pool.back());
      pool.pop_back();
      return Lease(this, std::move(conn));
    }
  }
  auto conn = pg::Conn::connect(url, shown, "voxlog reader");
  if (!conn) return conn.status();
  return Lease(this, std::move(conn).value());
}

void PgEventStore::Impl::wake_publisher() {
  char byte = 1;
  // A full pipe already holds a wake-up; the publisher drains it before it looks.
  [[maybe_unused]] auto n = ::write(wake_pipe[1], &byte, 1);
}

Result<std::unique_ptr<EventStore>> PgEventStore::open(const std::string& url, StoreOptions options) {
  if (options.max_batch == 0) return invalid_argument("max_batch must be at least 1");
  if (options.pg_poll_ms < 1) return invalid_argument("pg_poll_ms must be at least 1");
  auto impl = std::make_unique<Impl>();
  impl->url = url;
  impl->shown = log_url::redact(url);
  impl->options = options;
  impl->name = "the log at " + impl->shown;
  {
    auto conn = pg::Conn::connect(url, impl->shown, "voxlog open");
    if (!conn) return conn.status();
    if (Status st = pg_prepare_schema(*conn, impl->shown, !options.read_only); !st) return st;
    auto head = conn->exec("SELECT last_seq FROM voxlog.log_head", "log head");
    if (!head) return head.status();
    if (head->size() != 1) return data_loss("voxlog.log_head at " + impl->shown + " does not hold one row");
    impl->known_last_seq = head->u64(0, 0);
    impl->published_through = head->u64(0, 0);  // a subscriber sees only what commits after open
    std::lock_guard<std::mutex> lock(impl->pool_mu);
    impl->pool.push_back(std::move(conn).value());
  }
  if (!options.read_only) {
    if (::pipe2(impl->wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
      return internal_error("pipe2 for the log publisher failed");
    }
    Impl* raw = impl.get();
    raw->start([raw] { raw->writer_loop(); }, [raw] { raw->publisher_loop(); });
  }
  return std::unique_ptr<EventStore>(new PgEventStore(std::move(impl)));
}

PgEventStore::PgEventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PgEventStore::~PgEventStore() {
  impl_->stop();  // commits what is pending, then lets the publisher end
}

std::string PgEventStore::describe() const {
  return impl_->shown;
}

void PgEventStore::append(AppendRequest request, AppendCallback done) {
  impl_->enqueue(std::move(request), std::move(done));
}

Result<AppendResult> PgEventStore::append_sync(AppendRequest request) {
  return impl_->append_sync(std::move(request));
}

std::uint64_t PgEventStore::subscribe(Subscriber subscriber) {
  return impl_->subscribe(std::move(subscriber));
}

void PgEventStore::unsubscribe(std::uint64_t id) {
  impl_->unsubscribe(id);
}

void PgEventStore::on_commit(CommitObserver observer) {
  impl_->on_commit(std::move(observer));
}

std::uint64_t PgEventStore::last_seq() const {
  if (!impl_->options.read_only) return impl_->known_last_seq.load();
  // Read-only (the voxlog commands): nothing follows the log here, so ask it.
  auto conn = impl_->lease();
  if (!conn) return 0;
  auto head = (*conn)->exec("SELECT last_seq FROM voxlog.log_head", "log head");
  return head && head->size() == 1 ? head->u64(0, 0) : 0;
}

Status PgEventStore::last_write_status() const {
  return impl_->last_write_status();
}

}  // namespace voxlog
