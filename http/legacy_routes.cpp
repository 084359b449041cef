// Binds the Node app's dashboard endpoints (legacy_api.hpp) to routes. Installed through
// ServerContext::extra_routes, i.e. before /api/calls/:id, which would otherwise take "history" and "stats".
#include "http/legacy_routes.hpp"

#include "http/legacy_api.hpp"
#include "http/respond.hpp"

namespace voxlog {
namespace {

using http::RequestHandle;

// A read route (answer_read) over this module's own copy of the context, which the read keeps alive.
template <class Fn>
auto guarded(std::shared_ptr<const ServerContext> ctx, Fn fn, Role needed = Role::viewer) {
  return [ctx, fn, needed](const RequestHandle& req, http::RouteParams params) {
    auto kept = std::make_shared<http::RouteParams>(std::move(params));
    answer_read(*ctx, req, [ctx, fn, req, kept] { return fn(*ctx, req, *kept); }, needed);
    return restinio::request_accepted();
  };
}

}  // namespace

RouteInstaller legacy_api_routes(const ServerContext& context) {
  auto ctx = std::make_shared<ServerContext>(context);
  ctx->extra_routes.clear();
  return [ctx](void* raw) {
    auto& r = *static_cast<http::Router*>(raw);
    r.http_get("/api/calls/history/export/all",
               guarded(
                   ctx,
                   [](const ServerContext& c, const RequestHandle&, auto&) {
                     return call_history_export(*c.view, *c.store);
                   },
                   Role::admin));  // every number and answer at once: an admin's
    r.http_get("/api/calls/history/:id",
               guarded(ctx, [](const ServerContext& c, const RequestHandle&, auto& p) {
                 return call_history_of(*c.view, *c.store, std::string(p["id"]));
               }));
    r.http_get("/api/calls/history",
               guarded(ctx, [](const ServerContext& c, const RequestHandle& req, auto&) {
                 return call_history(*c.view, *c.store, query_of(req));
               }));
    r.http_get("/api/calls/stats", guarded(ctx, [](const ServerContext& c, const RequestHandle&, auto&) {
                 return call_stats(*c.view, now_ms());
               }));
    r.http_get("/api/calls/daily-summary",
               guarded(ctx, [](const ServerContext& c, const RequestHandle& req, auto&) {
                 return daily_summary(*c.view, query_of(req), now_ms());
               }));
  };
}

}  // namespace voxlog
