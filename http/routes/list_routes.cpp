// Contact lists: a named set of contacts imported once (CSV or JSON, as for a campaign), listed, deleted, and
// called as a campaign (the Node app's start-bulk-from-list).
#include "actors/campaign/campaigns.hpp"
#include "actors/projection/read_barrier.hpp"
#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"
#include "http/respond.hpp"
#include "http/routes/routes.hpp"
#include "projections/event_types.hpp"

namespace voxlog::routes {
namespace {

using http::RequestHandle;
using http::RouteParams;
using nlohmann::json;

json list_json(const ListRow& l) {
  return {{"id", l.id},
          {"name", l.name},
          {"by", string_or_null(l.by)},
          {"contacts", l.contacts},
          {"rejected", l.rejected},
          {"createdAt", l.created_ms}};
}

}  // namespace

Handler list_lists(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle&, const RouteParams&) {
    json out = json::array();
    for (const ListRow& l : ctx.view->lists()) out.push_back(list_json(l));
    return json_response(200, {{"success", true}, {"data", out}});
  });
}

Handler create_list(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, const RouteParams&) {
    auto admitted = admit_change(ctx, req, Role::operator_);  // a stop waits for this answer
    if (!admitted) return restinio::request_accepted();
    const Caller* caller = &admitted->caller;
    auto turn = admitted->turn;
    std::string instance(req->header().path());
    QueryParams query = query_of(req);
    bool csv = lower_ascii(header_of(req, "Content-Type")).rfind("text/csv", 0) == 0;
    ImportDefaults defaults = import_defaults(ctx);
    std::string by = caller->name;
    const ServerContext* context = &ctx;
    ctx.campaigns->run_detached([context, req, turn, instance, query, csv, defaults, by] {
      Result<CampaignImport> import = [&]() -> Result<CampaignImport> {
        if (csv)
          return import_csv(req->body(), {{"name", query.count("name") ? query.at("name") : ""}}, defaults);
        auto body = parse_untrusted_json(req->body());
        if (!body) return invalid_argument("the body is " + body.status().message());
        if (!body->is_object())
          return invalid_argument(
              "send {\"name\", \"contacts\": [{\"phone\", ...}]} or text/csv with a phone column");
        json only = {{"name", body->value("name", json(nullptr))},
                     {"contacts", body->value("contacts", json(nullptr))}};
        return import_json(only, defaults);
      }();
      if (!import) return respond(*context, req, problem_for(import.status(), instance));
      if (import->name.empty()) import->name = "List of " + std::to_string(import->contacts.size());
      auto id = context->campaigns->create_list(*import, by);
      if (!id) return respond(*context, req, problem_for(id.status(), instance));
      json rejected = json::array();
      for (const RejectedRow& r : import->rejected) rejected.push_back(to_json(r));
      auto answer = [context, req, turn, id = *id, name = import->name, accepted = import->contacts.size(),
                     rejected] {
        respond(*context, req,
                json_response(
                    201, {{"success", true},
                          {"data",
                           {{"id", id}, {"name", name}, {"accepted", accepted}, {"rejected", rejected}}}}));
      };
      // Answered once the view lists it: GET /api/lists right after shows it.
      if (context->reads) return context->reads->when_committed(context->store->last_seq(), answer);
      answer();
    });
    return restinio::request_accepted();
  };
}

Handler delete_list(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, const RouteParams& params) {
    ctx.metrics->http_request();
    auto caller = admit(ctx, req, Role::operator_);
    if (!caller) return restinio::request_accepted();
    std::string id(params["id"]);
    std::string instance(req->header().path());
    if (!ctx.view->find_list(id)) {
      respond(ctx, req, problem(404, "Not Found", "no list '" + id.substr(0, 100) + "'", instance));
      return restinio::request_accepted();
    }
    auto turn = take_turn(ctx, req);
    if (!turn) return restinio::request_accepted();
    const ServerContext* context = &ctx;
    AppendRequest request{stream_prefix::list + id,
                          {{event_type::list_deleted, {{"by", caller->name}}}},
                          std::nullopt,
                          {},
                          source::api,
                          0};
    ctx.store->append(std::move(request), [context, req, instance, turn, id](const Result<AppendResult>& r) {
      if (!r) return respond(*context, req, problem_for(r.status(), instance));
      auto answer = [context, req, turn, id] {
        respond(*context, req,
                json_response(200, {{"success", true}, {"message", "List deleted"}, {"data", {{"id", id}}}}));
      };
      if (context->reads) return context->reads->when_committed(r->last_seq, answer);
      answer();
    });
    return restinio::request_accepted();
  };
}

// POST /api/calls/start-bulk-from-list {listId, name?, retry?, window?, start_at?, cps?}: a campaign of the
// list's contacts, answered in start-bulk's shape (plus queueId: the campaign is the Node app's queue).
Handler start_bulk_from_list(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, const RouteParams&) {
    ctx.metrics->http_request();
    auto caller = admit(ctx, req, Role::operator_);
    if (!caller || over_rate_limit(ctx, req, *caller)) return restinio::request_accepted();
    std::string instance(req->header().path());
    auto parsed = parse_untrusted_json(req->body());
    if (!parsed) {
      respond(ctx, req, problem(400, "Bad Request", "the body is " + parsed.status().message(), instance));
      return restinio::request_accepted();
    }
    json body = std::move(*parsed);
    std::string list_id = body.is_object() ? string_field(body, "listId") : "";
    if (list_id.empty()) {
      respond(
          ctx, req,
          problem(400, "Bad Request", "'listId' is required: the id of a list (GET /api/lists)", instance));
      return restinio::request_accepted();
    }
    auto turn = take_turn(ctx, req);
    if (!turn) return restinio::request_accepted();
    ImportDefaults defaults = import_defaults(ctx);
    std::string by = caller->name;
    const ServerContext* context = &ctx;
    ctx.campaigns->run_detached([context, req, turn, instance, body, list_id, defaults, by] {
      auto listed = context->campaigns->import_list(list_id, defaults);
      if (!listed) return respond(*context, req, problem_for(listed.status(), instance));
      // The campaign's options, as POST /api/campaigns takes them (validated the same way).
      auto options = import_options(body, defaults);
      if (!options) return respond(*context, req, problem_for(options.status(), instance));
      auto account = chosen_account(*context, body);
      if (!account) return respond(*context, req, problem_for(account.status(), instance));
      CampaignImport import = std::move(*listed);
      import.account = (*account)->name;
      import.region = (*account)->region;
      import.policy = options->policy;
      import.scheduled = options->scheduled;
      if (!options->name.empty()) import.name = options->name;
      auto id = context->campaigns->create(import, by, "list");
      if (!id) return respond(*context, req, problem_for(id.status(), instance));
      respond(*context, req,
              json_response(200, {{"success", true},
                                  {"message", "Bulk call started"},
                                  {"data",
                                   {{"total", import.total_rows},
                                    {"initiated", import.contacts.size()},
                                    {"batchId", *id},
                                    {"queueId", *id},
                                    {"listId", list_id},
                                    {"account", import.account},
                                    {"region", string_or_null(import.region)}}}}));
    });
    return restinio::request_accepted();
  };
}

}  // namespace voxlog::routes
