#include "actors/projection/read_barrier.hpp"

namespace voxlog {

namespace {

// A detached actor: the reads it runs may block on LMDB, which must not hold a scheduler thread.
caf::behavior waiter(caf::event_based_actor* self, projection_actor projection) {
  return {
      [=](await_atom, std::uint64_t seq, const ViewRead& read) {
        self->request(projection, caf::infinite, await_atom::value, seq)
            .then([read](std::uint64_t) { read(); }, [read](caf::error&) { read(); });
      },
  };
}

}  // namespace

ReadBarrier::ReadBarrier(caf::actor_system& system, ProjectionHandle projection)
    : projection_(std::move(projection)), waiter_(system.spawn<caf::detached>(waiter, projection_.actor)) {}

ReadBarrier::~ReadBarrier() {
  stop();
}

void ReadBarrier::stop() {
  if (waiter_) caf::anon_send_exit(waiter_, caf::exit_reason::user_shutdown);
  waiter_ = nullptr;
}

void ReadBarrier::when_committed(std::uint64_t seq, ViewRead read) {
  if (seq <= projection_.committed_through->load()) return read();
  caf::anon_send(waiter_, await_atom::value, seq, std::move(read));
}

}  // namespace voxlog
