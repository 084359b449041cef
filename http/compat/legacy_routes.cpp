#include "http/compat/legacy_routes.hpp"

#include <memory>

#include "http/compat/legacy_api.hpp"
#include "http/respond.hpp"

namespace voxlog::routes {

using http::RequestHandle;
using http::RouteParams;

Handler history(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle& req, const RouteParams&) {
    return call_history(*ctx.view, *ctx.store, query_of(req));
  });
}

Handler history_of(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle&, const RouteParams& p) {
    return call_history_of(*ctx.view, *ctx.store, std::string(p["id"]));
  });
}

Handler history_export(const ServerContext& ctx) {
  // Every number and every answer: an admin's. Streamed, a few hundred calls at a time, once the view holds
  // every event committed when the request came (as answer_read).
  return [&ctx](const RequestHandle& req, auto) {
    ctx.metrics->http_request();
    if (!admit(ctx, req, Role::admin)) return restinio::request_accepted();
    once_view_current(ctx, [&ctx, req] {
      stream_answer(ctx, req, "application/json", call_history_export_pieces(*ctx.view, *ctx.store));
    });
    return restinio::request_accepted();
  };
}

Handler stats(const ServerContext& ctx) {
  return read_route(
      ctx, [&ctx](const RequestHandle&, const RouteParams&) { return call_stats(*ctx.view, now_ms()); });
}

Handler daily_summary(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle& req, const RouteParams&) {
    return voxlog::daily_summary(*ctx.view, query_of(req), now_ms());
  });
}

Handler monthly_summary(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle& req, const RouteParams&) {
    return voxlog::monthly_summary(*ctx.view, query_of(req), now_ms());
  });
}

Handler event_feed(const ServerContext& ctx) {
  // One index per route table: built from the log on the first request, brought up to date on each.
  auto index = std::make_shared<LegacyEventIndex>();
  return read_route(ctx, [&ctx, index](const RequestHandle& req, const RouteParams&) {
    return calls_event_feed(*index, *ctx.view, *ctx.store, query_of(req));
  });
}

}  // namespace voxlog::routes
