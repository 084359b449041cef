// The call actor: one per call, spawned by the CallDirectory (call_directory.hpp) on the call's first
// webhook.
//
// Contract: a call actor recovers its row by folding its own stream from the log, decides each
// webhook's events (call_decider.hpp), and appends them with its stream version as the expected version
// and the webhook's dedupe key. The webhook is answered after the commit, from the store's publisher
// thread (the reply must be callable from any thread); the actor hears the result too and takes the next
// webhook only then, so it handles one webhook at a time (later ones wait in its mailbox). On a version
// conflict (someone else wrote to the stream, e.g. the dialer) it re-reads its stream and decides again.
// When its call is over and it has been idle for a while it asks the directory to retire it, and stops on
// the `stop` the directory sends behind every webhook already routed to it.
//
// Thread-safety: an actor; its protocol is call_actor below.
#pragma once

#include <chrono>
#include <string>

#include <caf/all.hpp>

#include "actors/idle_timers.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/webhook.hpp"
#include "eventstore/store.hpp"

namespace voxlog {

using webhook_atom = caf::atom_constant<caf::atom("webhook")>;
using appended_atom = caf::atom_constant<caf::atom("appended")>;

// The call actor's protocol.
using call_actor = caf::typed_actor<
    // A webhook for this call and how to answer it (from the directory): answered once durable.
    caf::reacts_to<webhook_atom, Webhook, WebhookReply>,
    // The result of its own append (from the store's thread).
    caf::reacts_to<appended_atom, Result<AppendResult>>,
    // An idle wake-up of the given generation (from the idle timers); a stale one is ignored.
    caf::reacts_to<tick_atom, std::uint64_t>,
    // Retire now (from the directory, behind every webhook it routed here).
    caf::reacts_to<stop_atom>>;

struct CallActorSettings {
  EventStore* store = nullptr;
  Metrics* metrics = nullptr;
  std::chrono::milliseconds idle_after_end{5000};     // retire a finished call after this much quiet
  std::chrono::milliseconds idle_while_live{600000};  // and a live one after this (it recovers on demand)
};

class CallDirectory;

// `directory` must outlive the actor (it is told when the actor retires or exits).
call_actor spawn_call_actor(caf::actor_system& system, const std::string& stream,
                            const CallActorSettings& settings, CallDirectory* directory);

}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::Webhook)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::WebhookReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::Result<voxlog::AppendResult>)
