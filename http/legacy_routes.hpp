// The routes of the Node app's dashboard endpoints (handlers in legacy_api.hpp).
//
// Contract: returns a RouteInstaller for ServerContext::extra_routes; the routes check API_TOKEN and send
// CORS headers like every /api route (respond.hpp). `context` is copied (without its extra_routes).
//
// Thread-safety: call on main while building the server; the handlers run on the io thread.
#pragma once

#include "http/server.hpp"

namespace voxlog {

RouteInstaller legacy_api_routes(const ServerContext& context);

}  // namespace voxlog
