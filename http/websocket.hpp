// The plain WebSocket endpoint (/ws), and the hand-over of an upgraded connection from RESTinio to the
// live subscribers' own io threads (also used by Socket.IO's WebSocket transport).
//
// Contract: take_websocket() answers the upgrade itself (101, Sec-WebSocket-Accept) and moves the
// connection out of RESTinio onto a LiveLoops thread (live_socket.hpp): what is sent to subscribers never
// runs on the thread that accepts and answers webhooks, and a message is one shared buffer for every
// client. The connection keeps its place under MAX_CONNECTIONS until it closes. upgrade_to_websocket()
// makes it a broadcaster Subscriber of /ws: JSON text frames (subscriber.hpp, `ws_json()`), encoded once
// per change for all /ws clients. A client with more than Limits::max_bytes (WS_MAX_QUEUE_BYTES) or
// max_frames (WS_MAX_QUEUE) unsent is closed with 4000 and told which seq to resume after; the close
// frame goes before anything still queued.
//
// Thread-safety: call both from a RESTinio handler (its io thread).
#pragma once

#include <cstdint>

#include "actors/broadcaster.hpp"
#include "http/config/config.hpp"
#include "http/live_socket.hpp"
#include "http/restinio_fwd.hpp"

namespace voxlog {

// The limits of a live socket from the configuration (WS_MAX_QUEUE_BYTES, WS_MAX_QUEUE).
LiveSocket::Limits live_limits(const Config& config);

// The request's connection as a LiveSocket that has answered 101; null when `req` is not a WebSocket
// upgrade (no Upgrade, no Sec-WebSocket-Key): the caller answers it. start() it with its callbacks.
std::shared_ptr<LiveSocket> take_websocket(const restinio::request_handle_t& req, LiveLoops& loops,
                                           LiveSocket::Limits limits, std::string& handshake);

restinio::request_handling_status_t upgrade_to_websocket(const restinio::request_handle_t& req,
                                                         broadcaster_actor broadcaster, std::uint64_t after,
                                                         LiveLoops& loops, LiveSocket::Limits limits);

}  // namespace voxlog
