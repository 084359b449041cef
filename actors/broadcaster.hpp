// The broadcaster: the sole owner of every live subscriber (WebSocket, Socket.IO).
//
// Contract: the calls projection (actors/projection/) publishes each committed event once, in seq order, as a
// Change. A subscriber joins with `after` (the last seq it has seen). If it is behind, the broadcaster first
// replays from the log in pages (interleaved with live traffic, so one slow catch-up never stalls the
// others), then switches it to live: it receives every seq > after exactly once, in order, with no gap. An
// `after` past what has been published counts as what has been published: the subscriber is live from its
// join. Live changes are encoded once per protocol (subscriber.hpp Encoder), whatever the number of its
// subscribers. A subscriber whose queue overflows is closed with code 4000 and a reason naming the seq to
// resume after.
//
// Thread-safety: an actor; its protocol is broadcaster_actor below.
#pragma once

#include <chrono>
#include <cstdint>

#include <caf/all.hpp>

#include "actors/metrics/metrics.hpp"
#include "actors/subscriber.hpp"
#include "eventstore/store.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

constexpr std::uint16_t kCloseSlowConsumer = 4000;

using join_atom = caf::atom_constant<caf::atom("join")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using catchup_atom = caf::atom_constant<caf::atom("catchup")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using close_atom = caf::atom_constant<caf::atom("close")>;

// The broadcaster's protocol.
using broadcaster_actor = caf::typed_actor<
    // A subscriber joins after the last seq it has seen (the HTTP edge: /ws, Socket.IO).
    caf::reacts_to<join_atom, SubscriberPtr, std::uint64_t>,
    // A subscriber's id: its connection is gone.
    caf::reacts_to<leave_atom, std::uint64_t>,
    // Committed events with their call rows, in seq order (the calls projection).
    caf::reacts_to<publish_atom, ChangeBatch>,
    // To itself: the next page of a subscriber's catch-up; a heartbeat round.
    caf::reacts_to<catchup_atom, std::uint64_t>, caf::reacts_to<heartbeat_atom>,
    // How many subscribers there are; close every subscriber (at shutdown), true when done.
    caf::replies_to<count_atom>::with<std::size_t>, caf::replies_to<close_atom>::with<bool>>;

// `published_upto`: the seq the calls projection has already published (the view's checkpoint at start).
// Every `heartbeat` each subscriber is asked for a sign of life (subscriber.hpp); a silent one is closed.
broadcaster_actor spawn_broadcaster(caf::actor_system& system, EventStore& store, CallsView& view,
                                    Metrics& metrics, std::uint64_t published_upto,
                                    std::chrono::milliseconds heartbeat = std::chrono::seconds(30));

}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::SubscriberPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::ChangeBatch)
