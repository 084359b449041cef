// PgEventStore: opening the PostgreSQL log, queuing appends for the writer, subscribers and the readers'
// connection pool. The writer is pg_writer.cpp, the publisher pg_publisher.cpp, reads pg_read.cpp.
#include "eventstore/pg_store.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <future>

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

void PgEventStore::Impl::note_write(const Status& outcome) {
  std::lock_guard<std::mutex> lock(last_write_mu);
  last_write = outcome;
  if (!outcome) {
    last_failure = outcome;
    last_failure_at = std::chrono::steady_clock::now();
  }
}

Result<std::unique_ptr<EventStore>> PgEventStore::open(const std::string& url, StoreOptions options) {
  if (options.max_batch == 0) return invalid_argument("max_batch must be at least 1");
  if (options.pg_poll_ms < 1) return invalid_argument("pg_poll_ms must be at least 1");
  auto impl = std::make_unique<Impl>();
  impl->url = url;
  impl->shown = log_url::redact(url);
  impl->options = options;
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
    raw->writer = std::thread([raw] {
      pthread_setname_np(pthread_self(), "voxlog.writer");
      raw->writer_loop();
    });
    raw->publisher = std::thread([raw] {
      pthread_setname_np(pthread_self(), "voxlog.publish");
      raw->publisher_loop();
    });
    raw->publisher_id = raw->publisher.get_id();
  }
  return std::unique_ptr<EventStore>(new PgEventStore(std::move(impl)));
}

PgEventStore::PgEventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PgEventStore::~PgEventStore() {
  {
    std::lock_guard<std::mutex> lock(impl_->queue_mu);
    impl_->stopping = true;
  }
  impl_->queue_cv.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();  // commits what is pending, then lets the publisher end
  if (impl_->publisher.joinable()) impl_->publisher.join();
}

std::string PgEventStore::describe() const {
  return impl_->shown;
}

void PgEventStore::append(AppendRequest request, AppendCallback done) {
  PendingAppend pending = prepare_append(std::move(request), std::move(done));
  {
    std::lock_guard<std::mutex> lock(impl_->queue_mu);
    if (impl_->options.read_only) {
      pending.precheck = failed_precondition("the log at " + impl_->shown + " is open read-only");
    } else if (impl_->stopping) {
      pending.precheck = failed_precondition("the log at " + impl_->shown + " is closing");
    } else {
      impl_->queue.push_back(std::move(pending));
      impl_->queue_cv.notify_one();
      return;
    }
  }
  pending.done(pending.precheck);
}

Result<AppendResult> PgEventStore::append_sync(AppendRequest request) {
  if (std::this_thread::get_id() == impl_->publisher_id) {
    return failed_precondition("append_sync called from a store callback would deadlock the publisher");
  }
  std::promise<Result<AppendResult>> promise;
  auto answer = promise.get_future();
  append(std::move(request), [&promise](const Result<AppendResult>& r) { promise.set_value(r); });
  return answer.get();
}

std::uint64_t PgEventStore::subscribe(Subscriber subscriber) {
  std::lock_guard<std::mutex> lock(impl_->subscribers_mu);
  std::uint64_t id = impl_->next_subscriber_id++;
  impl_->subscribers.emplace(id, std::move(subscriber));
  return id;
}

void PgEventStore::unsubscribe(std::uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(impl_->subscribers_mu);
    impl_->subscribers.erase(id);
  }
  if (std::this_thread::get_id() != impl_->publisher_id) std::lock_guard<std::mutex> wait(impl_->publish_mu);
}

void PgEventStore::on_commit(CommitObserver observer) {
  std::lock_guard<std::mutex> lock(impl_->subscribers_mu);
  impl_->commit_observer = std::move(observer);
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
  constexpr std::chrono::seconds kFailureRemembered{10};
  std::lock_guard<std::mutex> lock(impl_->last_write_mu);
  if (!impl_->last_write) return impl_->last_write;
  if (!impl_->last_failure && std::chrono::steady_clock::now() - impl_->last_failure_at < kFailureRemembered)
    return impl_->last_failure;
  return impl_->last_write;
}

}  // namespace voxlog
