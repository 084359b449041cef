// The few things every RESTinio route handler of voxlogd does the same way: answer with an HttpResponse
// (CORS for the allowed origins, no caching), check API_TOKEN, decode the query string.
//
// Contract: defined in server.cpp, used by every module that installs routes (server.cpp itself,
// socketio.cpp, legacy_routes.cpp), so CORS and authentication have one implementation. `respond` may be
// called from any thread (RESTinio queues the answer on the connection's strand).
//
// Thread-safety: stateless functions over a ServerContext that does not change while serving.
#pragma once

#include <string>

#include "http/problem.hpp"
#include "http/read_api.hpp"
#include "http/restinio_fwd.hpp"
#include "http/server.hpp"

namespace voxlog {

// Adds Access-Control-Allow-Origin/Credentials when the request's Origin is one of config.allowed_origins.
void add_cors(const ServerContext& ctx, const restinio::request_handle_t& req,
              restinio::response_builder_t<restinio::restinio_controlled_output_t>& resp);
void respond(const ServerContext& ctx, const restinio::request_handle_t& req, const HttpResponse& r);
QueryParams query_of(const restinio::request_handle_t& req);
// Constant-time comparison for secrets.
bool equal_secret(const std::string& a, const std::string& b);
// True when API_TOKEN is unset, or the request carries it (Bearer header or ?token=).
bool authorized(const ServerContext& ctx, const restinio::request_handle_t& req);

}  // namespace voxlog
