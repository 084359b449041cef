// Change and Subscriber: what the broadcaster pushes and to whom.
//
// Contract: a Change is one committed event plus, for a call's event, the call's row right after it
// (live, and when a subscriber catches up from the log). `ws_json()` is the plain WebSocket
// message, {"seq", "type":"event", "event":{envelope}, "call":{row}|null}: rendered on first use and
// kept, so a change is rendered once however many clients get it, and never when nobody listens.
// A Subscriber is one connected client (plain WebSocket, Socket.IO, ...). The broadcaster is its only
// caller: `push` must not block; it returns false when the client's bounded queue is full, and the
// broadcaster then closes it with a reason telling it to resume with `after`.
// Live changes are encoded once per protocol, not once per client: a subscriber names its protocol's
// shared Encoder, the broadcaster encodes each live change with it once and hands every subscriber of
// that protocol the same Encoded bytes (push_encoded). A subscriber without a shared encoder gets the
// Change itself (push), as every subscriber does while it catches up from the log.
//
// Thread-safety: Subscriber methods are called from the broadcaster actor only; `queued()` may be read
// from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/event.hpp"
#include "projections/call_row.hpp"

namespace voxlog {

struct Change {
  using Commit = std::shared_ptr<const std::vector<Event>>;
  // The event at `index` of a committed batch, shared with every other reader of that batch (no copy).
  Change(Commit commit, std::size_t index, std::optional<CallRow> c)
      : commit_(std::move(commit)), event((*commit_)[index]), call(std::move(c)) {}
  Change(Event e, std::optional<CallRow> c) : Change(own(std::move(e)), 0, std::move(c)) {}

 private:
  static Commit own(Event e) {
    auto one = std::make_shared<std::vector<Event>>();
    one->push_back(std::move(e));
    return one;
  }
  Commit commit_;  // declared before `event`, which refers into it

 public:
  const Event& event;
  std::optional<CallRow> call;

  // Only the broadcaster's thread may call this (the cache is not synchronised).
  const std::string& ws_json() const;

 private:
  mutable std::string ws_json_;
};

using ChangeBatch = std::shared_ptr<const std::vector<Change>>;

// One change as a protocol puts it on the wire, shared by every client of that protocol.
struct Encoded {
  std::string frames;              // WebSocket frames, header and payload, ready to write
  std::vector<std::string> texts;  // the same messages as text (a long-polling transport joins them)
};
using EncodedPtr = std::shared_ptr<const Encoded>;

// A protocol's encoder of live changes. The broadcaster calls it once per change, in seq order, for
// every change it publishes while the protocol has live subscribers; null: nothing to send for it.
class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual EncodedPtr encode(const Change& change) = 0;
};

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual std::uint64_t id() const = 0;
  virtual bool push(const Change& change) = 0;
  // The protocol's encoder, the same object for all its subscribers; null: live changes go to push().
  virtual std::shared_ptr<Encoder> shared_encoder() const { return nullptr; }
  // A live change as the shared encoder put it; false when the client's queue is full.
  virtual bool push_encoded(const EncodedPtr& encoded) { return encoded == nullptr; }
  // How many more changes push() would take right now. Catching up from the log fills only this much
  // and waits for the client to drain, so replaying a long history never counts as being slow.
  virtual std::size_t room() const { return SIZE_MAX; }
  // Called every heartbeat interval. Returns false when the client has shown no sign of life since the
  // previous call (a half-open connection); the broadcaster then closes it. May send a ping.
  virtual bool heartbeat() { return true; }
  // Ends the connection; `reason` is shown to the client (close frame reason, or disconnect message).
  virtual void close(std::uint16_t code, const std::string& reason) = 0;
};

using SubscriberPtr = std::shared_ptr<Subscriber>;

// The broadcaster keys subscribers by id: every kind of subscriber takes its id from here.
inline std::uint64_t next_subscriber_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace voxlog
