// The campaign control routes: POST /api/campaigns/{batchId}/pause and /resume, for the batches that
// POST /api/calls/start-bulk starts (its answer names the batchId).
//
// Contract: each checks API_TOKEN like every /api route (respond.hpp) and asks the dialer
// (dialer.hpp), which records CampaignPaused or CampaignResumed. The answer is
// {"success":true,"message","data":{"batchId","paused","remaining","changed"}}; pausing a paused batch
// (or resuming a running one) changes and records nothing and says so ("changed":false). A batch that
// is not running is a 404 problem.
//
// Thread-safety: call on main while building the router; the handlers run on the io thread and the
// answers leave from the dialer's.
#pragma once

#include "http/restinio_fwd.hpp"
#include "http/server.hpp"

namespace voxlog {

void add_campaign_routes(http::Router& router, const ServerContext& ctx);

}  // namespace voxlog
