// The call actor (one per call) and the router that finds or spawns it.
//
// Contract: the router receives every authenticated webhook, maps it to a call stream (execution SID
// first; a CallSid seen together with an execution SID becomes an alias of that call; an unknown call
// gets its own stream, call-<sid>), and forwards it to that stream's actor, spawning it on first use.
// A call actor recovers its row by folding its own stream from the log, decides the webhook's events
// (call_decider.hpp), appends them with its stream version as the expected version and the webhook's
// dedupe key. The webhook is answered after the commit, from the store's publisher thread (the reply
// must be callable from any thread); the actor hears the result too and takes the next webhook only
// then, so it handles one webhook at a time (later ones wait in its mailbox). On a version conflict (someone
// else wrote to the stream, e.g. the dialer) it re-reads its stream and decides again. When its call is over
// and it has been idle for a while it asks the router to retire it; the router stops it only after every
// webhook already routed to it.
//
// Thread-safety: actors; talk to them with messages (messages.hpp).
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "eventstore/store.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

struct CallActorSettings {
  EventStore* store = nullptr;
  Metrics* metrics = nullptr;
  std::chrono::milliseconds idle_after_end{5000};     // retire a finished call after this much quiet
  std::chrono::milliseconds idle_while_live{600000};  // and a live one after this (it recovers on demand)
};

// `known_aliases`: SID -> stream, loaded from the calls view at start (calls learned before a restart).
caf::actor spawn_router(caf::actor_system& system, CallActorSettings settings,
                        std::unordered_map<std::string, std::string> known_aliases);

// The aliases a calls view knows: every execution SID and CallSid -> its call's stream.
std::unordered_map<std::string, std::string> aliases_from(const CallsView& view);

}  // namespace voxlog
