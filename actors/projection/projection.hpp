// Projection actors: each one follows the log into one view, from that view's own checkpoint.
//
// Contract: a Projection is one view's fold as the actor drives it: stage the committed events that come
// after staged_through(), hand them on (to subscribers, to campaign actors), and commit them with the
// checkpoint in the same transaction. spawn_projection() gives it a detached actor (a view's commit blocks
// on a disk sync, so it gets a thread of its own rather than one of the scheduler's). The actor:
// - on `start`, subscribes to the log, catches the view up page by page, and answers once the view holds
//   the whole log (main asks before anything is served, so reads and aliases are current);
// - stages each commit the log publishes as it arrives, and commits the view when kCommitInterval has
//   passed since its last commit (a flush timer), at once when a read waits, or every kMaxStaged events:
//   under load the view syncs at most every kCommitInterval, not once per log commit (each sync is a
//   disk flush the log's own commits would otherwise queue behind);
// - answers `await(seq)` with its checkpoint once the view has committed `seq` (read your writes), or
//   at once with what it has when the view cannot commit;
// - on `stop`, takes in what the log committed until then, commits, answers every waiting read and exits:
//   called once nothing appends any more, it leaves the view equal to the log (`voxlog replay --check`).
// A failed view write drops what was staged; the actor reads it again from the log (the log has it).
//
// A new view is one new Projection and one more spawn_projection() in main.
//
// Thread-safety: Projection methods run on its actor's thread only. The actor: its protocol below.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "eventstore/store.hpp"

namespace voxlog {

using CommittedBatch = std::shared_ptr<const std::vector<Event>>;

class Projection {
 public:
  virtual ~Projection() = default;
  virtual const char* name() const = 0;  // for messages: "calls view"
  virtual std::uint64_t staged_through() const = 0;
  virtual bool has_staged() const = 0;
  // Stages the events of `commits` past staged_through() (seq order, no gap) and hands them on. `live`:
  // false while the actor catches up at start.
  virtual Status apply(const std::vector<CommittedBatch>& commits, bool live) = 0;
  // Commits what is staged, checkpoint included (one disk sync); a no-op when nothing is.
  virtual Status commit() = 0;
};

using start_atom = caf::atom_constant<caf::atom("start")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using await_atom = caf::atom_constant<caf::atom("await")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;

// A projection actor's protocol.
using projection_actor = caf::typed_actor<
    // Catch up and follow the log (main, once): the view's checkpoint when it holds the whole log, or an
    // error naming why it could not.
    caf::replies_to<start_atom>::with<std::uint64_t>,
    // A commit of the log (from the store's publisher thread), and its own flush timer.
    caf::reacts_to<committed_atom, CommittedBatch>, caf::reacts_to<flush_atom>,
    // The view's checkpoint once it is at least `seq` (or the view cannot get there now).
    caf::replies_to<await_atom, std::uint64_t>::with<std::uint64_t>,
    // Take in the rest of the log, commit, release every waiting read, exit (shutdown).
    caf::replies_to<stop_atom>::with<std::uint64_t>>;

struct ProjectionHandle {
  projection_actor actor;
  // The view's checkpoint as of its last commit, published by the actor after each commit: a reader
  // that finds its seq here need not ask the actor (the common case of a read-your-writes read).
  std::shared_ptr<const std::atomic<std::uint64_t>> committed_through;
};

ProjectionHandle spawn_projection(caf::actor_system& system, EventStore& store,
                                  std::unique_ptr<Projection> projection);

// Blocking helpers for main and tests (a scoped actor asks and waits).
Status start_projection(caf::actor_system& system, const ProjectionHandle& projection);
void stop_projection(caf::actor_system& system, const ProjectionHandle& projection);

constexpr std::chrono::milliseconds kCommitInterval{20};
constexpr std::size_t kMaxStaged = 50000;  // events; keeps one transaction's dirty pages bounded

}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::CommittedBatch)
