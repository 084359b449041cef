// CallDirectory: finds or spawns the call actor for a webhook, on the caller's thread.
//
// Contract: route() maps a webhook to its call's stream (execution SID first; a CallSid seen together
// with an execution SID becomes an alias of that call; an unknown call gets its own stream, call-<sid>)
// and puts it in that stream's actor's mailbox, spawning the actor on first use. A call actor that has
// been idle long enough calls retire(): the directory forgets it and sends it `stop`, which lands behind
// every webhook already routed to it, so none is lost; the next webhook for that call spawns a fresh actor
// that recovers from the log. An actor that fails is forgotten the same way (forget()). Actors ask to be
// told when their quiet period may be over with wake_at() (coarse, batched timers: idle_timers.hpp).
// After stop_all() (shutdown) route() answers every webhook with `unavailable`.
//
// Why not a router actor: every webhook passed through it, so it was one more thread hand-off per webhook
// and, as the ingestion benchmark showed, the place where a few percent of webhooks waited 30-250 ms.
// Routing is a hash lookup under a mutex; the io thread does it without waiting for anyone.
//
// Thread-safety: every method may be called from any thread. The directory must outlive its actors:
// call stop_all() and wait for the actor system's actors before destroying it.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/call_actor.hpp"
#include "actors/idle_timers.hpp"
#include "actors/webhook.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

class CallDirectory {
 public:
  // `known_aliases`: SID -> stream, loaded from the calls view at start (calls learned before a restart).
  CallDirectory(caf::actor_system& system, CallActorSettings settings,
                std::unordered_map<std::string, std::string> known_aliases);
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
  // Sends every call actor an exit; later webhooks are refused.
  void stop_all();

 private:
  std::string stream_for(const Webhook& w);  // under mu_; learns the webhook's aliases

  caf::actor_system& system_;
  const CallActorSettings settings_;
  IdleTimers idle_timers_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, call_actor> actors_;  // stream -> its call actor
  std::unordered_map<std::string, std::string> alias_;  // SID -> stream
  bool stopped_ = false;
};

// The aliases a calls view knows: every execution SID and CallSid -> its call's stream.
std::unordered_map<std::string, std::string> aliases_from(const CallsView& view);

}  // namespace voxlog
