// The Node app's call queues, on voxlog's campaigns: a queue is a campaign (start-bulk's, a list's or one of
// POST /api/campaigns), with the counts its dashboard reads; start resumes it, pause pauses it, DELETE
// cancels it (its history stays in the log).
#include "actors/campaign/campaigns.hpp"
#include "eventstore/json_fields.hpp"
#include "http/respond.hpp"
#include "http/routes/routes.hpp"

namespace voxlog::routes {
namespace {

using http::RequestHandle;
using http::RouteParams;
using nlohmann::json;
namespace cs = contact_state;

std::uint64_t count(const CampaignRow& c, std::initializer_list<const char*> states) {
  std::uint64_t n = 0;
  for (const char* s : states)
    if (auto it = c.counts.find(s); it != c.counts.end()) n += it->second;
  return n;
}

// The Node app's queue: {id, name, status, totalCalls, completedCalls, failedCalls, pendingCalls,
// inProgressCalls, createdAt, updatedAt (epoch ms), region}, and voxlog's own counts beside them.
json queue_json(const CampaignRow& c) {
  static const std::map<std::string, std::string> status = {{"scheduled", "pending"},
                                                            {"running", "running"},
                                                            {"paused", "paused"},
                                                            {"cancelled", "cancelled"},
                                                            {"completed", "completed"}};
  auto it = status.find(c.state);
  json j = {{"id", c.id},
            {"name", c.name.empty() ? c.id : c.name},
            {"status", it == status.end() ? c.state : it->second},
            {"source", c.source},
            {"region", string_or_null(c.region)},  // the Twilio account its calls go through
            {"totalCalls", c.contacts},
            {"completedCalls",
             count(c, {cs::confirmed, cs::cancelled, cs::voicemail, cs::opted_out, cs::no_outcome})},
            {"failedCalls", count(c, {cs::unreachable, cs::skipped})},
            {"pendingCalls", count(c, {cs::pending, cs::deferred, cs::retry_scheduled})},
            {"inProgressCalls", count(c, {cs::in_flight})},
            {"createdAt", c.created_ms},
            {"updatedAt", c.updated_ms}};
  j["campaign"] = to_json(c);
  return j;
}

Handler queue_control(const ServerContext& ctx, Campaigns::Control what, const char* done) {
  return [&ctx, what, done](const RequestHandle& req, const RouteParams& params) {
    auto admitted = admit_change(ctx, req, Role::operator_);  // a stop waits for this answer
    if (!admitted) return restinio::request_accepted();
    const Caller* caller = &admitted->caller;
    auto turn = admitted->turn;
    std::string instance(req->header().path());
    const ServerContext* context = &ctx;
    Campaigns::ControlReply reply = [context, req, instance, turn, done](const Result<ControlResult>& r) {
      if (!r) return respond(*context, req, problem_for(r.status(), instance));
      respond(*context, req,
              json_response(200, {{"success", true}, {"message", done}, {"data", queue_json(r->campaign)}}));
    };
    ctx.campaigns->control(std::string(params["id"]), what, caller->name, std::move(reply));
    return restinio::request_accepted();
  };
}

}  // namespace

Handler list_queues(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle&, const RouteParams&) {
    json out = json::array();
    for (const CampaignRow& c : ctx.view->list_campaigns()) out.push_back(queue_json(c));
    return json_response(200, {{"success", true}, {"data", out}});
  });
}

Handler get_queue(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle& req, const RouteParams& params) {
    std::string id(params["id"]);
    auto c = ctx.view->find_campaign(id);
    if (!c)
      return problem(404, "Not Found", "no queue '" + id.substr(0, 100) + "'",
                     std::string(req->header().path()));
    return json_response(200, {{"success", true}, {"data", queue_json(*c)}});
  });
}

Handler start_queue(const ServerContext& ctx) {
  return queue_control(ctx, Campaigns::Control::resume, "Queue started");
}
Handler pause_queue(const ServerContext& ctx) {
  return queue_control(ctx, Campaigns::Control::pause, "Queue paused");
}
Handler delete_queue(const ServerContext& ctx) {
  return queue_control(ctx, Campaigns::Control::cancel, "Queue deleted");
}

}  // namespace voxlog::routes
