// The broadcaster: the sole owner of every live subscriber (WebSocket, Socket.IO).
//
// Contract: the projector publishes each committed event once, in seq order, as a Change. A subscriber
// joins with `after` (the last seq it has seen). If it is behind, the broadcaster first replays from the
// log in pages (interleaved with live traffic, so one slow catch-up never stalls the others), then
// switches it to live: it receives every seq > after exactly once, in order, with no gap. An `after` past
// what has been published counts as what has been published: the subscriber is live from its join. A
// subscriber whose queue overflows is closed with code 4000 and a reason naming the seq to resume after.
//
// Thread-safety: an actor; use the messages in messages.hpp.
#pragma once

#include <chrono>

#include <caf/all.hpp>

#include "actors/metrics.hpp"
#include "eventstore/store.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

constexpr std::uint16_t kCloseSlowConsumer = 4000;

// `published_upto`: the seq the projector has already published (the view's checkpoint at start).
// Every `heartbeat` each subscriber is asked for a sign of life (subscriber.hpp); a silent one is closed.
caf::actor spawn_broadcaster(caf::actor_system& system, EventStore& store, CallsView& view, Metrics& metrics,
                             std::uint64_t published_upto,
                             std::chrono::milliseconds heartbeat = std::chrono::seconds(30));

}  // namespace voxlog
