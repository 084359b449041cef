// Placing calls: one number (start) or a batch (start-bulk, a campaign underneath), in the Node app's request
// and answer shapes.
#include <algorithm>

#include "actors/ask.hpp"
#include "actors/campaign/campaigns.hpp"
#include "actors/dialer.hpp"
#include "eventstore/json_fields.hpp"
#include "http/respond.hpp"
#include "http/routes/routes.hpp"

namespace voxlog::routes {
namespace {

using http::RequestHandle;

// The body of a start route as a JSON object, or the 400 that says why not.
Result<nlohmann::json> json_object_body(const RequestHandle& req, const char* example) {
  auto body = parse_untrusted_json(req->body());
  if (!body) return invalid_argument("the body is " + body.status().message());
  if (!body->is_object())
    return invalid_argument(std::string("the body must be a JSON object such as ") + example);
  return body;
}

// Twilio refusing our credentials or failing is the server's problem (502), not the caller's.
HttpResponse dial_problem(const DialOutcome& o, const std::string& instance) {
  if (o.http_status == 400 || o.status.code() == StatusCode::invalid_argument)
    return problem(400, "Bad Request", o.status.message(), instance);
  if (o.status.code() == StatusCode::conflict || o.do_not_call)
    return problem(409, "Conflict", o.status.message(), instance);
  if (o.http_status != 0 || o.status.code() == StatusCode::unauthenticated ||
      o.status.code() == StatusCode::permission_denied)
    return problem(502, "Bad Gateway", "Twilio refused the call: " + o.status.message(), instance);
  return problem_for(o.status, instance);
}

// Admits an operator within the rate limit, checks the body, then hands the request to the dialer,
// which answers later.
template <class Start>
auto start_handler(const ServerContext& ctx, const char* example, Start start) {
  return [&ctx, example, start](const RequestHandle& req, const http::RouteParams&) {
    ctx.metrics->http_request();
    auto caller = admit(ctx, req, Role::operator_);
    if (!caller || over_rate_limit(ctx, req, *caller)) return restinio::request_accepted();
    std::string instance(req->header().path());
    auto body = json_object_body(req, example);
    if (!body) {
      respond(ctx, req, problem_for(body.status(), instance));
      return restinio::request_accepted();
    }
    auto turn = take_turn(ctx, req);  // a stop waits for this answer
    if (!turn) return restinio::request_accepted();
    if (HttpResponse refused = start(req, *body, instance, caller->name, turn); refused.status != 0)
      respond(ctx, req, refused);
    return restinio::request_accepted();
  };
}

}  // namespace

Result<const TwilioAccount*> chosen_account(const ServerContext& ctx, const nlohmann::json& fields) {
  std::string picked[2];
  const char* const names[2] = {"account", "region"};
  for (int i = 0; i < 2; ++i) {
    auto it = fields.is_object() ? fields.find(names[i]) : fields.end();
    if (it == fields.end() || it->is_null()) continue;
    if (!it->is_string())
      return invalid_argument(std::string("'") + names[i] +
                              "' must be a string: the name of a Twilio account" +
                              (i ? "'s region, such as \"uk\"" : ""));
    picked[i] = it->get<std::string>();
  }
  return ctx.config.choose_twilio_account(picked[0], picked[1]);
}

Handler start_call(const ServerContext& ctx) {
  return start_handler(
      ctx, "{\"to\": \"+447700900123\"}",
      [&ctx](const RequestHandle& req, const nlohmann::json& body, const std::string& instance,
             const std::string& by, std::shared_ptr<void> turn) {
        auto to = body.find("to");
        if (to == body.end() || !to->is_string() || to->get<std::string>().empty())
          return problem(400, "Bad Request", "'to' is required: the phone number to call", instance);
        auto account = chosen_account(ctx, body);
        if (!account) return problem_for(account.status(), instance);
        const ServerContext* context = &ctx;
        // The turn is held until the answer: a stop waits for it (the dialer answers once Twilio has).
        std::string account_name = (*account)->name, region = (*account)->region;
        auto answer = [req, context, instance, turn, account_name, region](const DialOutcome& o) {
          if (!o.status) return respond(*context, req, dial_problem(o, instance));
          respond(*context, req,
                  json_response(200, {{"success", true},
                                      {"message", "Call started"},
                                      {"data",
                                       {{"execution_sid", o.execution_sid},
                                        {"to", o.to},
                                        {"account", account_name},
                                        {"region", string_or_null(region)}}}}));
        };
        auto failed = [req, context, instance, turn](const caf::error&) {
          respond(*context, req, problem(503, "Service Unavailable", "the dialer is not running", instance));
        };
        DialRequest request;
        request.number = to->get<std::string>();
        request.account = (*account)->name;
        request.by = by;
        // No timeout of its own: the dialer answers every request once Twilio has (its client has timeouts).
        ask(ctx.dialer, caf::infinite, answer, failed, dial_atom::value, std::move(request));
        return HttpResponse{0, {}, {}};
      });
}

Handler start_bulk(const ServerContext& ctx) {
  return start_handler(
      ctx, "{\"phoneNumbers\": [\"+447700900123\"]}",
      [&ctx](const RequestHandle& req, const nlohmann::json& body, const std::string& instance,
             const std::string& by, std::shared_ptr<void> turn) {
        auto numbers = body.find("phoneNumbers");
        if (numbers == body.end() || !numbers->is_array() ||
            !std::all_of(numbers->begin(), numbers->end(),
                         [](const nlohmann::json& n) { return n.is_string(); }))
          return problem(400, "Bad Request", "'phoneNumbers' must be an array of phone number strings",
                         instance);
        auto account = chosen_account(ctx, body);
        if (!account) return problem_for(account.status(), instance);
        auto list = numbers->get<std::vector<std::string>>();
        std::size_t max = ctx.config.max_campaign_contacts;
        if (list.empty() || list.size() > max)
          return problem(
              400, "Bad Request",
              "phoneNumbers must hold 1 to " + std::to_string(max) + " numbers (MAX_CAMPAIGN_CONTACTS)",
              instance);
        // A batch is a campaign: durable, paced, resumed after a restart; its id is the Node app's batchId.
        ImportDefaults defaults = import_defaults(ctx);
        const ServerContext* context = &ctx;
        const TwilioAccount* through = *account;  // the configuration outlives every request
        ctx.campaigns->run_detached(
            [context, req, instance, turn, list = std::move(list), defaults, by, through] {
              CampaignImport import = import_numbers(list, defaults);
              import.account = through->name;
              import.region = through->region;
              auto id = context->campaigns->create(import, by, "start-bulk");
              if (!id) return respond(*context, req, problem_for(id.status(), instance));
              respond(*context, req,
                      json_response(200, {{"success", true},
                                          {"message", "Bulk call started"},
                                          {"data",
                                           {{"total", list.size()},
                                            {"initiated", import.contacts.size()},
                                            {"batchId", *id},
                                            {"campaignId", *id},
                                            {"account", through->name},
                                            {"region", string_or_null(through->region)}}}}));
            });
        return HttpResponse{0, {}, {}};
      });
}

}  // namespace voxlog::routes
