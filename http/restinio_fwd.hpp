// The RESTinio flavour voxlogd uses everywhere: express router, asio timers, a strand per connection
// (WebSocket sends come from actor threads).
//
// Contract: include this, not restinio directly, in the http/ translation units that need RESTinio
// (each costs ~30 s to compile: keep them few).
//
// Thread-safety: type aliases only.
#pragma once

#include <restinio/all.hpp>
#include <restinio/websocket/websocket.hpp>

#include <caf/all.hpp>

#include "http/edge_socket.hpp"

namespace voxlog::http {

using Router = restinio::router::express_router_t<>;
// The request handler is a plain function (server.cpp): webhooks are dispatched by exact path before
// the express router, whose std::regex matching cost more than the rest of the webhook path.
// Open connections are capped (MAX_CONNECTIONS, within the open-file limit) by voxlogd's own accept loop
// (edge_acceptor.hpp): past the cap a connection gets 503; a full descriptor table does not stop it.
// The logger and socket answer requests RESTinio cannot parse (edge_socket.hpp).
struct Traits : restinio::traits_t<restinio::asio_timer_manager_t, EdgeLogger,
                                   restinio::details::autodetect_request_handler_type,
                                   restinio::default_strand_t, EdgeSocket> {
  static constexpr bool use_connection_count_limiter = true;
};
}  // namespace voxlog::http

#include "http/edge_acceptor.hpp"  // voxlogd's accept loop and connection count, for these Traits

namespace voxlog::http {

using RequestHandle = restinio::request_handle_t;
using RouteParams = restinio::router::route_params_t;
namespace rws = restinio::websocket::basic;

}  // namespace voxlog::http

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(restinio::request_handle_t)
