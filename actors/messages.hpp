// The actor protocols of voxlogd, declared in one place.
//
// Contract: atoms name the messages; each block lists, for one actor, what it accepts:
//   call actor:  (webhook, Webhook, WebhookReply), (appended, Result<AppendResult>), (tick, u64), (stop);
//                the CallDirectory (call_directory.hpp) routes webhooks to it and sends the stop; the
//                tick comes from the IdleTimers sweeper (idle_timers.hpp)
//   idle timers sweeper: (tick) from itself, every resolution; (stop)
//   broadcaster: (join, SubscriberPtr, u64 after), (leave, u64 id), (publish, ChangeBatch),
//                (catchup, u64 id), (heartbeat), (count) -> std::size_t, (close) -> bool (closes every
//                subscriber)
// In-process types that cross actors (std::function, shared_ptr) are allowed as unsafe message types:
// voxlogd never sends them over a network.
//
// Thread-safety: declarations only.
#pragma once

#include <caf/all.hpp>

#include "actors/subscriber.hpp"
#include "actors/webhook.hpp"
#include "eventstore/store.hpp"

namespace voxlog {

using webhook_atom = caf::atom_constant<caf::atom("webhook")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using appended_atom = caf::atom_constant<caf::atom("appended")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using catchup_atom = caf::atom_constant<caf::atom("catchup")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;

}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::Webhook)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::WebhookReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::Result<voxlog::AppendResult>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::SubscriberPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::ChangeBatch)
