// The PostgreSQL log's publisher thread: answers this node's appenders, then publishes every node's
// committed events to the subscribers, in seq order, by reading the log after the last seq it published.
// A NOTIFY from any node's commit or a local commit wakes it; without one it looks every pg_poll_ms,
// because NOTIFY is a wake-up that a lost connection loses, not a record.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>

#include "eventstore/pg_store_impl.hpp"

namespace voxlog {

namespace {

constexpr int kTailPage = 1000;  // events read (and published together) at most per query

std::size_t events_of(const WrittenBatch& batch) {
  std::size_t n = 0;
  for (const auto& a : batch.answers)
    if (a && !a->duplicate) n += a->last_seq - a->first_seq + 1;
  return n;
}

// The first seq a batch wrote; 0 when it wrote none.
std::uint64_t first_seq_of(const WrittenBatch& batch) {
  std::uint64_t first = 0;
  if (!batch.committed) return 0;
  for (const auto& a : batch.answers)
    if (a && !a->duplicate && (first == 0 || a->first_seq < first)) first = a->first_seq;
  return first;
}

std::uint64_t last_seq_of(const WrittenBatch& batch) {
  std::uint64_t last = 0;
  for (const auto& a : batch.answers)
    if (a && !a->duplicate && a->last_seq > last) last = a->last_seq;
  return last;
}

}  // namespace

void PgEventStore::Impl::publisher_loop() {
  using clock = std::chrono::steady_clock;
  auto next_connect = clock::now();
  bool more = true;  // look at once: the log may have grown since open()
  int final_reads = 0;
  for (;;) {
    // The publisher's own connection: it reads the tail, and LISTENs when asked to.
    if (!listen_conn.usable() && clock::now() >= next_connect) {
      auto conn = pg::Conn::connect(url, shown, "voxlog follower");
      if (conn && options.pg_listen) {
        if (auto listened = conn->exec("LISTEN voxlog_log", "listen"); !listened) conn = listened.status();
      }
      if (conn) {
        listen_conn = std::move(conn).value();
        more = true;  // NOTIFYs sent while it was away are lost
      } else {
        next_connect = clock::now() + std::chrono::seconds(1);
      }
    }
    if (!more) {
      pollfd fds[2] = {{wake_pipe[0], POLLIN, 0}, {-1, POLLIN, 0}};
      nfds_t n = 1;
      if (options.pg_listen && listen_conn.usable()) {
        fds[1].fd = PQsocket(listen_conn.get());
        n = 2;
      }
      ::poll(fds, n, options.pg_poll_ms);
    }
    char drain[64];
    while (::read(wake_pipe[0], drain, sizeof drain) > 0) {
    }
    if (options.pg_listen && listen_conn.usable()) {
      PQconsumeInput(listen_conn.get());  // a failure shows as an unusable connection next time round
      while (PGnotify* note = PQnotifies(listen_conn.get())) PQfreemem(note);
    }

    // This node's finished batches are answered at once, without waiting for the read below (their
    // events go out after it, so still after the answer).
    std::deque<WrittenBatch> answered;
    {
      std::lock_guard<std::mutex> lock(written_mu);
      answered.swap(written);
    }
    for (WrittenBatch& batch : answered) {
      for (std::size_t i = 0; i < batch.requests.size(); ++i) batch.requests[i].done(batch.answers[i]);
    }

    // Read, then take the batches finished meanwhile and the in-flight mark: a local batch that committed
    // before the read is either answered above, or among the batches taken now (answered below, before
    // its events go out), or still in flight (its seqs held back): never published before its appenders
    // hear of it.
    std::vector<Event> page;
    bool read_ok = false;
    if (listen_conn.usable()) {
      auto rows = listen_conn.exec(
          std::string("SELECT ") + kPgEventColumns +
              " FROM voxlog.events WHERE seq > $1 AND seq <= (SELECT last_seq FROM voxlog.log_head)"
              " ORDER BY seq LIMIT " +
              std::to_string(kTailPage),
          {std::to_string(published_through)}, "follow the log");
      if (rows) {
        read_ok = true;
        page.resize(static_cast<std::size_t>(rows->size()));
        for (int i = 0; i < rows->size(); ++i) {
          if (Status st = pg_event_from_row(*rows, i, &page[static_cast<std::size_t>(i)]); !st) {
            page.resize(static_cast<std::size_t>(i));  // publish up to the bad one; verify() names it
            read_ok = false;
            break;
          }
        }
      }
    }
    // A NOTIFY that came in with the rows may be for a commit after the read's snapshot: look again.
    bool notified = false;
    if (options.pg_listen && listen_conn.usable()) {
      while (PGnotify* note = PQnotifies(listen_conn.get())) {
        PQfreemem(note);
        notified = true;
      }
    }
    std::deque<WrittenBatch> ready;
    std::uint64_t held_from;
    bool done;
    {
      std::lock_guard<std::mutex> lock(written_mu);
      ready.swap(written);
      held_from = in_flight_first ? in_flight_first : std::numeric_limits<std::uint64_t>::max();
      done = writer_done;
    }
    // Only what follows published_through without a gap, and nothing of a batch still in flight.
    std::vector<Event> events;
    for (Event& e : page) {
      if (e.seq != published_through + events.size() + 1 || e.seq >= held_from) break;
      events.push_back(std::move(e));
    }
    bool all_taken = events.size() == page.size();
    // In seq order, as LMDB does commit by commit: what precedes a batch goes out before the batch is
    // answered, and the batch's own events after (a client that appends again once answered finds its
    // earlier events already published).
    std::size_t next = 0;
    auto publish_below = [&](std::uint64_t bound) {
      auto part = std::make_shared<std::vector<Event>>();
      while (next < events.size() && events[next].seq < bound) part->push_back(std::move(events[next++]));
      if (part->empty()) return;
      published_through = part->back().seq;
      std::uint64_t known = known_last_seq.load();
      while (published_through > known && !known_last_seq.compare_exchange_weak(known, published_through)) {
      }
      run_subscribers(part);
    };
    for (WrittenBatch& batch : ready) {
      if (std::uint64_t first = first_seq_of(batch); first != 0) publish_below(first);
      for (std::size_t i = 0; i < batch.requests.size(); ++i) batch.requests[i].done(batch.answers[i]);
    }
    publish_below(std::numeric_limits<std::uint64_t>::max());
    ready.insert(ready.begin(), std::make_move_iterator(answered.begin()),  // for the observer, in order
                 std::make_move_iterator(answered.end()));
    CommitObserver observer;
    {
      std::lock_guard<std::mutex> lock(subscribers_mu);
      observer = commit_observer;
    }
    if (observer) {
      for (WrittenBatch& batch : ready) {
        if (!batch.committed) continue;
        CommitInfo info = batch.info;
        info.requests = batch.requests.size();
        info.events = events_of(batch);
        observer(info);
      }
    }
    more = read_ok && all_taken && page.size() == static_cast<std::size_t>(kTailPage);
    // This node's commits that the read came too early for: read again at once, not at the next poll.
    std::uint64_t local_last = 0;
    for (const WrittenBatch& batch : ready)
      if (batch.committed)
        local_last = std::max<std::uint64_t>(local_last, first_seq_of(batch) ? last_seq_of(batch) : 0);
    if (read_ok && (published_through < local_last || notified)) more = true;
    if (done && !more) {
      std::lock_guard<std::mutex> lock(written_mu);
      // Everything this node committed is answered; what it committed is published if the database let
      // the last read see it (it did, unless the database is gone).
      if (written.empty() && (published_through >= known_last_seq.load() || !read_ok)) return;
      // Not visible yet (or a gap, which verify() will name): look a few more times, then give up.
      if (written.empty() && ++final_reads > 20) return;
    }
  }
}

}  // namespace voxlog
