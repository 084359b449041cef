// Leadership: a claim that one node of the nodes sharing a log holds at a time, for work that must run once
// in the whole cluster (the campaigns: one node decides and dials, whichever node took the request).
//
// Contract: EventStore::leadership(name) makes one; hold() tries to take the claim, or checks that it still
// holds it, and answers whether it does. On the LMDB log a node is alone (the log's lock file keeps a second
// process out), so hold() is always true. On PostgreSQL the claim is a session advisory lock on a connection
// of its own: the database frees it the moment that session ends (the node died, was killed, lost the
// database), and a failover frees it with the old primary, so another node's next hold() takes it. A holder
// learns that it lost the claim only at its next hold(); work done in between is fenced by the log itself
// (every decision is appended with the stream's expected version, so a stale leader's write conflicts).
//
// Thread-safety: hold() and release() may block on the database: call them from one thread of your own,
// never from an io thread or an actor. A Leadership must not outlive its EventStore.
#pragma once

#include <string>

namespace voxlog {

class Leadership {
 public:
  virtual ~Leadership() = default;  // releases the claim
  // True while this node holds the claim (taking it if it is free).
  virtual bool hold() = 0;
  // Gives the claim up (shutdown), so another node takes it at once.
  virtual void release() = 0;
  // False when the claim can never move to another node (a single-node log): nobody needs to ask again.
  virtual bool contested() const = 0;
};

// The claim of a node that is alone on its log.
class SoleLeadership final : public Leadership {
 public:
  bool hold() override { return true; }
  void release() override {}
  bool contested() const override { return false; }
};

}  // namespace voxlog
