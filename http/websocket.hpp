// The plain WebSocket endpoint (/ws): upgrades a request and hands the connection to the broadcaster.
//
// Contract: the broadcaster becomes the sole owner of the connection (RESTinio's WebSocket is not
// thread-safe): the io thread only
// answers pings and reports a close or an error; every send and the close happen through the
// broadcaster's Subscriber calls. Messages are JSON text frames (subscriber.hpp, `ws_json()`). A client
// with more than `max_queue` frames unsent is closed with 4000 and told which seq to resume after.
//
// Thread-safety: call upgrade_to_websocket() from a RESTinio handler.
#pragma once

#include <cstdint>

#include "actors/broadcaster.hpp"
#include "http/restinio_fwd.hpp"

namespace voxlog {

restinio::request_handling_status_t upgrade_to_websocket(const restinio::request_handle_t& req,
                                                         broadcaster_actor broadcaster, std::uint64_t after,
                                                         std::size_t max_queue);

}  // namespace voxlog
