#include "actors/projection/projection.hpp"

#include <algorithm>
#include <iostream>

namespace voxlog {

namespace {

struct Waiting {
  std::uint64_t seq;
  caf::typed_response_promise<std::uint64_t> promise;
};

struct ProjectionState {
  EventStore* store = nullptr;
  std::shared_ptr<Projection> projection;
  std::shared_ptr<std::atomic<std::uint64_t>> committed_through;
  std::uint64_t subscription = 0;
  std::vector<Waiting> waiting;
  std::chrono::steady_clock::time_point last_commit{};
  std::size_t staged_events = 0;
  bool flush_armed = false;
  bool live = false;  // past start()'s catch-up
  // The last view commit failed (a full disk): it dropped what was staged, so nothing would wake a read
  // that waited now; reads are answered at once, against what the view has, until a commit succeeds.
  bool failing = false;
  static inline const char* name = "voxlog.projection";
};

using Self = projection_actor::stateful_pointer<ProjectionState>;

// Answers the reads the view now serves (through its last commit), or all of them.
void release(Self self, bool all) {
  auto& st = self->state;
  std::uint64_t through = st.committed_through->load();
  auto served = std::stable_partition(st.waiting.begin(), st.waiting.end(),
                                      [&](const Waiting& w) { return all || w.seq <= through; });
  for (auto it = st.waiting.begin(); it != served; ++it) it->promise.deliver(through);
  st.waiting.erase(st.waiting.begin(), served);
}

Status commit(Self self) {
  auto& st = self->state;
  st.last_commit = std::chrono::steady_clock::now();
  st.staged_events = 0;
  std::uint64_t through = st.projection->staged_through();
  Status s = st.projection->commit();
  if (s) {
    st.committed_through->store(through);
    st.failing = false;
    release(self, false);
  }
  return s;
}

// Page by page, each committed: a catch-up of millions of events must not grow one transaction.
Status catch_up_from_log(Self self) {
  auto& st = self->state;
  for (;;) {
    auto page = st.store->read_all(st.projection->staged_through(), 4096);
    if (!page) return page.status();
    if (page->empty()) return commit(self);
    CommittedBatch batch = std::make_shared<const std::vector<Event>>(std::move(*page));
    if (Status s = st.projection->apply({batch}, st.live); !s) return s;
    if (Status s = commit(self); !s) return s;
  }
}

// Stages a commit of the log; a gap after a failed view write (which dropped what was staged) is read
// from the log rather than skipped.
Status stage(Self self, const CommittedBatch& batch) {
  auto& st = self->state;
  if (batch->empty() || batch->back().seq <= st.projection->staged_through()) return Status::ok();
  if (batch->front().seq > st.projection->staged_through() + 1) return catch_up_from_log(self);
  st.staged_events += batch->size();
  return st.projection->apply({batch}, st.live);
}

void failed(Self self, const Status& s) {
  std::cerr << "voxlogd: " << self->state.projection->name()
            << " update failed, will retry from the log: " << s.to_string() << '\n';
  self->state.failing = true;
  release(self, true);  // answered from the last commit rather than left waiting
}

// Group commit for the view: commit now when kCommitInterval has passed since the last commit, a read
// waits, or enough is staged; otherwise once the interval is over (a batch after a quiet spell commits at
// once, one that follows a commit within kCommitInterval waits for the rest of it).
void commit_when_due(Self self) {
  auto& st = self->state;
  if (!st.projection->has_staged()) return;
  auto due_at = st.last_commit + kCommitInterval;
  if (std::chrono::steady_clock::now() >= due_at || !st.waiting.empty() || st.staged_events >= kMaxStaged) {
    if (Status s = commit(self); !s) failed(self, s);
    return;
  }
  if (!st.flush_armed) {
    st.flush_armed = true;
    self->delayed_send(self, due_at - std::chrono::steady_clock::now(), flush_atom::value);
  }
}

void unsubscribe(Self self) {
  auto& st = self->state;
  if (st.subscription) st.store->unsubscribe(st.subscription);
  st.subscription = 0;
}

projection_actor::behavior_type projection_behavior(Self self, EventStore* store,
                                                    std::shared_ptr<Projection> projection,
                                                    std::shared_ptr<std::atomic<std::uint64_t>> committed) {
  self->state.store = store;
  self->state.projection = std::move(projection);
  self->state.committed_through = std::move(committed);
  self->attach_functor([self] { unsubscribe(self); });
  return {
      [=](start_atom) -> caf::result<std::uint64_t> {
        auto& st = self->state;
        if (!st.subscription) {
          // Subscribe first (commits wait in the mailbox), then read: nothing between falls in a gap.
          projection_actor me = self;
          st.subscription = st.store->subscribe(
              [me](const CommittedBatch& batch) { caf::anon_send(me, committed_atom::value, batch); });
        }
        if (Status s = catch_up_from_log(self); !s)
          return caf::make_error(caf::sec::runtime_error,
                                 st.projection->name() + std::string(": ") + s.to_string());
        st.live = true;
        return st.committed_through->load();
      },
      [=](committed_atom, const CommittedBatch& batch) {
        if (Status s = stage(self, batch); !s) return failed(self, s);
        commit_when_due(self);
      },
      [=](flush_atom) {
        self->state.flush_armed = false;
        commit_when_due(self);
      },
      [=](await_atom, std::uint64_t seq) -> caf::result<std::uint64_t> {
        auto& st = self->state;
        if (seq <= st.committed_through->load() || st.failing) return st.committed_through->load();
        auto promise = self->make_response_promise<std::uint64_t>();
        st.waiting.push_back({seq, promise});
        commit_when_due(self);  // a waiting read wants what is staged committed now, not in 20 ms
        return promise;
      },
      [=](stop_atom) -> std::uint64_t {
        unsubscribe(self);
        // What was committed after the unsubscription: a clean stop leaves the view equal to the log.
        if (Status s = catch_up_from_log(self); !s)
          std::cerr << "voxlogd: the " << self->state.projection->name()
                    << " could not take in the last events: " << s.to_string() << '\n';
        release(self, true);
        self->quit();
        return self->state.committed_through->load();
      },
  };
}

}  // namespace

ProjectionHandle spawn_projection(caf::actor_system& system, EventStore& store,
                                  std::unique_ptr<Projection> projection) {
  auto committed = std::make_shared<std::atomic<std::uint64_t>>(projection->staged_through());
  auto actor = system.spawn<caf::detached>(projection_behavior, &store,
                                           std::shared_ptr<Projection>(std::move(projection)), committed);
  return {actor, committed};
}

Status start_projection(caf::actor_system& system, const ProjectionHandle& projection) {
  caf::scoped_actor self{system};
  Status result = Status::ok();
  self->request(projection.actor, caf::infinite, start_atom::value)
      .receive([](std::uint64_t) {},
               [&](caf::error& e) { result = Status(StatusCode::internal, system.render(e)); });
  return result;
}

void stop_projection(caf::actor_system& system, const ProjectionHandle& projection) {
  caf::scoped_actor self{system};
  self->request(projection.actor, caf::infinite, stop_atom::value)
      .receive([](std::uint64_t) {}, [](caf::error&) {});
}

}  // namespace voxlog
