// Pausing and resuming a running batch (what start-bulk began).
#include "actors/dialer.hpp"
#include "http/respond.hpp"
#include "http/routes/routes.hpp"

namespace voxlog::routes {
namespace {

using http::RequestHandle;

template <class Atom>
auto campaign_handler(const ServerContext& ctx, Atom atom, const char* done, const char* already) {
  return [&ctx, atom, done, already](const RequestHandle& req, const http::RouteParams& params) {
    ctx.metrics->http_request();
    auto caller = admit(ctx, req, Role::operator_);
    if (!caller) return restinio::request_accepted();
    std::string instance(req->header().path());
    auto turn = take_turn(ctx, req);  // a stop waits for this answer
    if (!turn) return restinio::request_accepted();
    const ServerContext* context = &ctx;
    CampaignReply reply = [req, context, instance, done, already, turn](const Result<CampaignState>& c) {
      if (!c) return respond(*context, req, problem_for(c.status(), instance));
      respond(*context, req,
              json_response(200, {{"success", true},
                                  {"message", c->changed ? done : already},
                                  {"data",
                                   {{"batchId", c->batch_id},
                                    {"paused", c->paused},
                                    {"remaining", c->remaining},
                                    {"changed", c->changed}}}}));
    };
    caf::anon_send(ctx.dialer, atom, std::string(params["batchId"]), caller->name, std::move(reply));
    return restinio::request_accepted();
  };
}

}  // namespace

Handler pause_campaign(const ServerContext& ctx) {
  return campaign_handler(ctx, pause_atom::value, "Campaign paused", "Campaign already paused");
}

Handler resume_campaign(const ServerContext& ctx) {
  return campaign_handler(ctx, resume_atom::value, "Campaign resumed", "Campaign already running");
}

}  // namespace voxlog::routes
