// The few things every RESTinio route handler of voxlogd does the same way: answer with an HttpResponse
// (CORS for the allowed origins, no caching, Retry-After on 503 and 429), screen a request before any
// route sees it, admit a caller with the role a route needs, rate-limit the call-placing routes, and
// answer reads once the view is current.
//
// Contract: implemented in respond.cpp, used by every module that installs routes (server.cpp,
// socketio.cpp, legacy_routes.cpp, campaign_routes.cpp), so CORS, screening and authentication have one
// implementation (the policy itself is access_policy.hpp). `respond` may be called from any thread
// (RESTinio queues the answer on the connection's strand). Refusals are problem+json and change nothing.
//
// Thread-safety: stateless functions over a ServerContext that does not change while serving (its rate
// limiter locks itself).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/access_policy.hpp"
#include "http/problem.hpp"
#include "http/read_api.hpp"
#include "http/restinio_fwd.hpp"
#include "http/server.hpp"

namespace voxlog {

// Adds Access-Control-Allow-Origin when the request's Origin is one of config.allowed_origins (with
// Allow-Credentials), or `*` when ALLOWED_ORIGINS=* (never with credentials).
void add_cors(const ServerContext& ctx, const restinio::request_handle_t& req,
              restinio::response_builder_t<restinio::restinio_controlled_output_t>& resp);
void respond(const ServerContext& ctx, const restinio::request_handle_t& req, const HttpResponse& r);
QueryParams query_of(const restinio::request_handle_t& req);
std::string header_of(const restinio::request_handle_t& req, restinio::string_view_t name);

// The checks every request passes before routing, in this order: request line and headers within
// MAX_HEADER_BYTES (431) and the target within 8 KiB (414); no malformed percent-escape in
// the path (400); a Host this server answers to (421: stops DNS
// rebinding); no foreign Origin (403: stops cross-site requests, WebSocket and Socket.IO upgrades
// included); the body within its limit (413: MAX_BODY_BYTES for webhooks, MAX_API_BODY_BYTES for the
// rest); a state-changing /api request's body in application/json (415: a cross-site form or text/plain
// body never reaches a handler). Answers the refusal and returns true, or returns false.
bool screened_out(const ServerContext& ctx, const restinio::request_handle_t& req);

// Credentials: WebSocket upgrades may carry the token as `?token=` (browsers cannot set headers there);
// every other request only as `Authorization: Bearer <token>`, so tokens stay out of proxies' logs.
enum class TokenIn { header, header_or_query };

// The caller of a request that needs `needed`, or nullopt after answering 401 (no valid token) or 403
// (a valid token whose role is too low).
std::optional<Caller> admit(const ServerContext& ctx, const restinio::request_handle_t& req, Role needed,
                            TokenIn where = TokenIn::header);

// For the call-placing routes: true after answering 429 with Retry-After when this client (its token's
// name and address) has used up RATE_LIMIT_BURST / RATE_LIMIT_PER_MIN.
bool over_rate_limit(const ServerContext& ctx, const restinio::request_handle_t& req, const Caller& caller);

// For a request answered later (a webhook, a start, a campaign control): its turn in ctx.gate, to keep in
// its reply until the answer is sent; or null after answering 503 (the server is stopping).
std::shared_ptr<void> take_turn(const ServerContext& ctx, const restinio::request_handle_t& req);

// For a request that changes state and is answered later (an import, a control, a do-not-call change):
// counts it, admits a caller with `needed`, and takes its turn. nullopt after answering 401, 403 or 503.
struct Admitted {
  Caller caller;
  std::shared_ptr<void> turn;  // keep it in the reply
};
std::optional<Admitted> admit_change(const ServerContext& ctx, const restinio::request_handle_t& req,
                                     Role needed);

// The Host the client asked for: with TRUST_PROXY=on, the proxy's X-Forwarded-Host when it sends one.
std::string requested_host(const ServerContext& ctx, const restinio::request_handle_t& req);

// The client's address: the peer, or with TRUST_PROXY=on the first X-Forwarded-For entry.
std::string client_address(const ServerContext& ctx, const restinio::request_handle_t& req);

// Answers a read route: counts it, admits a caller with `needed`, then responds with what `read` computes
// once the calls view holds every event the log had committed when the request arrived. A read thus sees
// every write acknowledged before it (a started call, a webhook), though the view may lag the log by up
// to 20 ms (projection.hpp). `read` runs on this thread when the view is current, else on the read
// barrier's (read_barrier.hpp).
void answer_read(const ServerContext& ctx, const restinio::request_handle_t& req,
                 std::function<HttpResponse()> read, Role needed = Role::viewer);

// Answers 200 with a body of any size in chunks (chunked transfer encoding): `next_piece()` gives each
// chunk once the previous one is written, "" to end. Memory stays one piece per response, and a client
// that reads slowly slows the producer. An error from `next_piece()` ends the body where it is (the
// status is sent): the client's parser sees it incomplete. Call it once the request is admitted.
void stream_answer(const ServerContext& ctx, const restinio::request_handle_t& req,
                   const std::string& content_type, std::function<Result<std::string>()> next_piece);

// Runs `then` once the calls view holds every event the log has committed now: at once on this thread
// when it already does, else on the read barrier's (answer_read's wait, for answers it does not build).
void once_view_current(const ServerContext& ctx, std::function<void()> then);

// The handler of a read route: answer_read with what `fn(req, params)` computes, for callers with `needed`.
template <class Fn>
auto read_route(const ServerContext& ctx, Fn fn, Role needed = Role::viewer) {
  return [&ctx, fn, needed](const restinio::request_handle_t& req, restinio::router::route_params_t params) {
    auto kept =
        std::make_shared<restinio::router::route_params_t>(std::move(params));  // the read may run later
    answer_read(
        ctx, req, [fn, req, kept] { return fn(req, *kept); }, needed);
    return restinio::request_accepted();
  };
}

}  // namespace voxlog
