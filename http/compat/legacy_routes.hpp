// The Node app's dashboard endpoints (legacy_api.hpp computes them from the views): their handlers, for
// the route table in http/server.cpp. Its clients keep working unchanged.
//
// Contract: like every read route (respond.hpp read_route): a viewer's token, CORS for the allowed
// origins, the read waits for the view to hold what the log had committed. The full export needs an admin.
//
// Thread-safety: handlers run on the io thread or, when they wait for the view, on the read barrier's
// (read_barrier.hpp).
#pragma once

#include "http/routes/routes.hpp"

namespace voxlog::routes {

Handler history(const ServerContext& ctx);          // GET /api/calls/history
Handler history_of(const ServerContext& ctx);       // GET /api/calls/history/{id}
Handler history_export(const ServerContext& ctx);   // GET /api/calls/history/export/all (admin)
Handler stats(const ServerContext& ctx);            // GET /api/calls/stats
Handler daily_summary(const ServerContext& ctx);    // GET /api/calls/daily-summary
Handler monthly_summary(const ServerContext& ctx);  // GET /api/calls/monthly-summary
Handler event_feed(const ServerContext& ctx);       // GET /api/calls/events (its index lives in the handler)

}  // namespace voxlog::routes
