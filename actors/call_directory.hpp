// CallDirectory: finds or spawns the call actor for a webhook, on the caller's thread.
//
// Contract: route() maps a webhook to its call's stream (execution SID first; a CallSid seen together
// with an execution SID becomes an alias of that call; an unknown call gets its own stream, call-<sid>)
// and puts it in that stream's actor's mailbox, spawning the actor on first use. The directory holds the
// aliases of the calls that have an actor, and of the last kRecentAliases retired ones (the calls view
// may not have committed those yet); any other SID is looked up in the calls view (`lookup`), so its
// memory follows the calls in progress, not every call ever seen, and start-up loads nothing. A call actor
// that has been idle long enough calls retire(): the directory forgets it and sends it `stop`, which lands
// behind every webhook already routed to it, so none is lost; the next webhook for that call spawns a fresh
// actor that recovers from the log. An actor that fails is forgotten the same way (forget()). Actors ask to
// be told when their quiet period may be over with wake_at() (coarse, batched timers: idle_timers.hpp). After
// stop_all() (shutdown) route() answers every webhook with `unavailable`.
//
// Why not a router actor: every webhook passed through it, so it was one more thread hand-off per webhook
// and, as the ingestion benchmark showed, the place where a few percent of webhooks waited 30-250 ms.
// Routing is a hash lookup under a mutex; the io thread does it without waiting for anyone.
//
// Thread-safety: every method may be called from any thread. The directory must outlive its actors:
// call stop_all() and wait for the actor system's actors before destroying it.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "actors/call_actor.hpp"
#include "actors/idle_timers.hpp"
#include "actors/webhook.hpp"

namespace voxlog {

// The stream of the call a SID belongs to, from what is durable (the calls view), or nothing.
using StreamLookup = std::function<std::optional<std::string>(const std::string& sid)>;

class CallDirectory {
 public:
  static constexpr std::size_t kRecentAliases = 65536;  // SIDs of retired calls kept in memory

  // `lookup` (may be empty: unknown SIDs are new calls) is called under the directory's lock, on the
  // routing thread: it must be quick and must not call the directory.
  CallDirectory(caf::actor_system& system, CallActorSettings settings, StreamLookup lookup = {},
                std::size_t recent_aliases = kRecentAliases);
  CallDirectory(const CallDirectory&) = delete;
  CallDirectory& operator=(const CallDirectory&) = delete;

  void route(Webhook webhook, WebhookReply reply);

  // Called by the call actor of `stream` (`self`) when it has been idle long enough. False when the
  // directory already holds another actor for the stream (nothing is sent then).
  bool retire(const std::string& stream, const call_actor& self);
  // The actor of `stream` has exited (abnormally): route the call's next webhook to a new one.
  void forget(const std::string& stream, const caf::actor_addr& self);
  // Sends `self` (tick, generation) at `at` or up to a few hundred milliseconds later (IdleTimers).
  void wake_at(caf::actor_clock::time_point at, const caf::actor_addr& self, std::uint64_t generation);

  std::size_t actors_alive() const;
  std::size_t aliases_held() const;  // SIDs in memory: of live actors and of recently retired calls
  // Sends every call actor an exit; later webhooks are refused.
  void stop_all();

 private:
  struct Entry {
    call_actor actor;
    std::vector<std::string> sids;  // the aliases learned while it lived, released when it goes
  };
  std::string stream_for(const Webhook& w);                         // under mu_
  std::optional<std::string> known_stream(const std::string& sid);  // under mu_
  void release_aliases(Entry& entry);                               // under mu_

  caf::actor_system& system_;
  const CallActorSettings settings_;
  const StreamLookup lookup_;
  const std::size_t recent_aliases_;
  IdleTimers idle_timers_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> actors_;        // stream -> its call actor
  std::unordered_map<std::string, std::string> alias_;   // SID -> stream, for the actors above
  std::unordered_map<std::string, std::string> recent_;  // SID -> stream, of retired calls
  std::deque<std::string> recent_order_;                 // recent_'s SIDs, oldest first
  bool stopped_ = false;
};

}  // namespace voxlog
