// The few things every RESTinio route handler of voxlogd does the same way: answer with an HttpResponse
// (CORS for the allowed origins, no caching), check API_TOKEN, decode the query string.
//
// Contract: defined in server.cpp, used by every module that installs routes (server.cpp itself,
// socketio.cpp, legacy_routes.cpp), so CORS and authentication have one implementation. `respond` may be
// called from any thread (RESTinio queues the answer on the connection's strand).
//
// Thread-safety: stateless functions over a ServerContext that does not change while serving.
#pragma once

#include <functional>
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
// For /api routes: answers 401 naming API_TOKEN and returns true when the request is not authorized.
bool refused_without_token(const ServerContext& ctx, const restinio::request_handle_t& req);
// Answers a read route: counts it, checks API_TOKEN, then responds with what `read` computes once the
// calls view holds every event the log had committed when the request arrived. A read thus sees every
// write acknowledged before it (a started call, a webhook), though the view may lag the log by up to
// 20 ms (projector.hpp). `read` runs on this thread when the view is current, else on the projector's.
void answer_read(const ServerContext& ctx, const restinio::request_handle_t& req,
                 std::function<HttpResponse()> read);

}  // namespace voxlog
