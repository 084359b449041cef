// Campaigns: create (JSON or CSV, with a dry run that previews the rows), list, read, the contacts and why
// they wait, the CSV export, and pause / resume / cancel.
#include <algorithm>

#include "actors/campaign/campaigns.hpp"
#include "actors/campaign/csv.hpp"
#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"
#include "http/respond.hpp"
#include "http/routes/routes.hpp"

namespace voxlog::routes {
namespace {

using http::RequestHandle;
using http::RouteParams;
using nlohmann::json;

constexpr std::size_t kPreviewRows = 50;

bool is_csv(const RequestHandle& req) {
  std::string type = lower_ascii(header_of(req, "Content-Type"));
  return type.rfind("text/csv", 0) == 0;
}

bool flag(const QueryParams& q, const char* key) {
  auto it = q.find(key);
  return it != q.end() && (it->second == "1" || it->second == "true" || it->second == "yes");
}

json rejected_json(const std::vector<RejectedRow>& rows) {
  json out = json::array();
  for (const RejectedRow& r : rows) out.push_back(to_json(r));
  return out;
}

json summary(const ServerContext& ctx, const CampaignRow& c) {
  json j = to_json(c);
  // When the next thing happens: the earliest waiting contact's time (now, for those simply pending; the
  // start, for a campaign that has not begun).
  auto next = c.is_over() || c.state == "paused" ? std::nullopt : ctx.view->next_campaign_action(c.id);
  if (next)
    next =
        std::max({*next, campaign_policy_from_json(c.policy).start_at_ms, ctx.campaigns->clock().now_ms()});
  j["nextActionAt"] = next ? json(*next) : json(nullptr);
  return j;
}

HttpResponse no_campaign(const std::string& id, const std::string& instance) {
  return problem(404, "Not Found", "no campaign '" + id.substr(0, 100) + "'", instance);
}

std::vector<std::string> export_header() {
  return {"row",        "phone",  "name",   "state",       "outcome",    "attempts",    "digits",
          "lastStatus", "reason", "nextAt", "firstCallAt", "lastCallAt", "executionSid"};
}

// The export's CSV a piece at a time (1,000 contacts each), for stream_answer: its memory stays one piece.
std::function<Result<std::string>()> contacts_csv(const CallsView& view, std::string id) {
  struct Progress {
    std::uint32_t after = 0;  // the next contact's index
    bool started = false;
    bool ended = false;
  };
  auto progress = std::make_shared<Progress>();
  return [&view, id = std::move(id), progress]() -> Result<std::string> {
    Progress& p = *progress;
    if (p.ended) return std::string();
    std::string out;
    if (!p.started)
      out = "\xEF\xBB\xBF" + csv_line(export_header());  // the BOM: spreadsheets read UTF-8 then
    p.started = true;
    ContactFilter page;
    page.after = p.after;
    page.limit = 1000;
    auto rows = view.campaign_contacts(id, page);
    auto time = [](std::int64_t ms) { return ms ? iso8601_ms(ms) : std::string(); };
    for (const ContactRow& r : rows)
      out += csv_line({std::to_string(r.index + 1), r.phone, r.fields.value("name", ""), r.state, r.outcome,
                       std::to_string(r.attempts), r.digits, r.last_status, r.reason, time(r.next_at_ms),
                       time(r.first_call_ms), time(r.last_call_ms), r.execution_sid});
    if (rows.size() < page.limit)
      p.ended = true;
    else
      p.after = rows.back().index + 1;
    if (out.empty()) p.ended = true;  // nothing more: the previous piece was the last
    return out;
  };
}

}  // namespace

ImportDefaults import_defaults(const ServerContext& ctx) {
  ImportDefaults d;
  d.default_region = ctx.config.default_region;
  d.default_cps = ctx.config.twilio_cps;
  d.max_contacts = ctx.config.max_campaign_contacts;
  d.now_ms = ctx.campaigns->clock().now_ms();
  return d;
}

Handler create_campaign(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, const RouteParams&) {
    ctx.metrics->http_request();
    auto caller = admit(ctx, req, Role::operator_);
    if (!caller || over_rate_limit(ctx, req, *caller)) return restinio::request_accepted();
    auto turn = take_turn(ctx, req);
    if (!turn) return restinio::request_accepted();
    std::string instance(req->header().path());
    QueryParams query = query_of(req);
    bool dry_run = flag(query, "dry_run");
    bool csv = is_csv(req);
    ImportDefaults defaults = import_defaults(ctx);
    std::string by = caller->name;
    const ServerContext* context = &ctx;
    // Parsing 100,000 rows and appending them takes a while: not on the io thread.
    ctx.campaigns->run_detached([context, req, turn, instance, query, dry_run, csv, defaults, by] {
      Result<CampaignImport> import = [&]() -> Result<CampaignImport> {
        if (csv) {
          json options = json::object();  // a CSV import's options are in its query
          for (const char* key : {"account", "region"})
            if (auto it = query.find(key); it != query.end()) options[key] = it->second;
          auto account = chosen_account(*context, options);
          if (!account) return account.status();
          auto imported = import_csv(req->body(), {query.begin(), query.end()}, defaults);
          if (imported) imported->account = (*account)->name, imported->region = (*account)->region;
          return imported;
        }
        auto body = parse_untrusted_json(req->body());
        if (!body) return invalid_argument("the body is " + body.status().message());
        if (!body->is_object())
          return invalid_argument(
              "the body must be a JSON object {\"name\", \"contacts\": [{\"phone\"}], ...} "
              "or text/csv with a header row");
        auto account = chosen_account(*context, *body);
        if (!account) return account.status();
        auto imported = import_json(*body, defaults);
        if (imported) imported->account = (*account)->name, imported->region = (*account)->region;
        return imported;
      }();
      if (!import) return respond(*context, req, problem_for(import.status(), instance));
      json data = {{"accepted", import->contacts.size()}, {"rejected", rejected_json(import->rejected)},
                   {"totalRows", import->total_rows},     {"policy", to_json(import->policy)},
                   {"account", import->account},          {"region", string_or_null(import->region)}};
      if (dry_run) {
        json preview = json::array();
        for (std::size_t i = 0; i < std::min(kPreviewRows, import->contacts.size()); ++i) {
          const ImportedContact& c = import->contacts[i];
          preview.push_back({{"phone", c.phone}, {"zones", c.zones}, {"fields", c.fields}});
        }
        data["preview"] = preview;
        return respond(*context, req,
                       json_response(200, {{"success", true}, {"dryRun", true}, {"data", data}}));
      }
      auto id = context->campaigns->create(*import, by, csv ? "csv" : "api");
      if (!id) return respond(*context, req, problem_for(id.status(), instance));
      data["id"] = *id;
      respond(*context, req, json_response(201, {{"success", true}, {"data", data}}));
    });
    return restinio::request_accepted();
  };
}

Handler list_campaigns(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle&, const RouteParams&) {
    json list = json::array();
    for (const CampaignRow& c : ctx.view->list_campaigns()) list.push_back(summary(ctx, c));
    return json_response(200, {{"success", true}, {"data", list}});
  });
}

Handler get_campaign(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle& req, const RouteParams& params) {
    std::string id(params["id"]);
    auto c = ctx.view->find_campaign(id);
    if (!c) return no_campaign(id, std::string(req->header().path()));
    return json_response(200, {{"success", true}, {"data", summary(ctx, *c)}});
  });
}

Handler campaign_contacts(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle& req, const RouteParams& params) {
    std::string id(params["id"]);
    std::string instance(req->header().path());
    if (!ctx.view->find_campaign(id)) return no_campaign(id, instance);
    QueryParams q = query_of(req);
    ContactFilter f;
    if (auto s = q.find("state"); s != q.end()) {
      const auto& states = contact_states();
      if (!s->second.empty() && std::find(states.begin(), states.end(), s->second) == states.end())
        return problem(400, "Bad Request",
                       "state must be one of pending, deferred, in_flight, retry_scheduled, "
                       "confirmed, cancelled, voicemail, opted_out, no_outcome, unreachable, skipped",
                       instance);
      f.state = s->second;
    }
    auto number = [&](const char* key, long lo, long hi, long fallback) -> Result<long> {
      auto it = q.find(key);
      if (it == q.end() || it->second.empty()) return fallback;
      char* end = nullptr;
      long v = std::strtol(it->second.c_str(), &end, 10);
      if (*end || v < lo || v > hi)
        return invalid_argument(std::string(key) + " must be a whole number from " + std::to_string(lo) +
                                " to " + std::to_string(hi));
      return v;
    };
    auto after = number("after", 0, 1L << 31, 0);
    auto limit = number("limit", 1, 1000, 100);
    if (!after) return problem_for(after.status(), instance);
    if (!limit) return problem_for(limit.status(), instance);
    f.after = static_cast<std::uint32_t>(*after);
    f.limit = static_cast<std::size_t>(*limit) + 1;
    auto rows = ctx.view->campaign_contacts(id, f);
    json list = json::array();
    for (std::size_t i = 0; i < rows.size() && i < f.limit - 1; ++i) list.push_back(to_json(rows[i]));
    json next = rows.size() == f.limit ? json(rows.back().index) : json(nullptr);
    return json_response(200, {{"success", true}, {"data", {{"contacts", list}, {"nextAfter", next}}}});
  });
}

Handler export_campaign(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, const RouteParams& params) {
    ctx.metrics->http_request();
    auto caller = admit(ctx, req, Role::admin);
    if (!caller) return restinio::request_accepted();
    std::string id(params["id"]);
    std::string instance(req->header().path());
    const ServerContext* context = &ctx;
    // Once the view holds what was acknowledged (a campaign just created is found), like every read.
    once_view_current(ctx, [context, req, id, instance] {
      auto c = context->view->find_campaign(id);
      if (!c) return respond(*context, req, no_campaign(id, instance));
      stream_answer(*context, req, "text/csv; charset=utf-8", contacts_csv(*context->view, id));
    });
    return restinio::request_accepted();
  };
}

Handler control_campaign(const ServerContext& ctx, Campaigns::Control what) {
  return [&ctx, what](const RequestHandle& req, const RouteParams& params) {
    auto admitted = admit_change(ctx, req, Role::operator_);  // a stop waits for this answer
    if (!admitted) return restinio::request_accepted();
    const Caller* caller = &admitted->caller;
    auto turn = admitted->turn;
    std::string instance(req->header().path());
    const ServerContext* context = &ctx;
    static const char* done[] = {"Campaign paused", "Campaign resumed", "Campaign cancelled"};
    static const char* already[] = {"Campaign already paused", "Campaign already running",
                                    "Campaign already cancelled"};
    int which = static_cast<int>(what);
    Campaigns::ControlReply reply = [req, context, instance, turn, which](const Result<ControlResult>& r) {
      if (!r) return respond(*context, req, problem_for(r.status(), instance));
      json data = to_json(r->campaign);
      // The Node app's batch fields, for clients of the first pause/resume routes.
      data["batchId"] = r->campaign.id;
      data["paused"] = r->campaign.state == "paused";
      data["changed"] = r->changed;
      std::uint64_t remaining = 0;  // contacts not called yet (or waiting for another attempt)
      for (const char* state :
           {contact_state::pending, contact_state::deferred, contact_state::retry_scheduled}) {
        auto it = r->campaign.counts.find(state);
        if (it != r->campaign.counts.end()) remaining += it->second;
      }
      data["remaining"] = remaining;
      respond(*context, req,
              json_response(200, {{"success", true},
                                  {"message", r->changed ? done[which] : already[which]},
                                  {"data", data}}));
    };
    ctx.campaigns->control(std::string(params["id"]), what, caller->name, std::move(reply));
    return restinio::request_accepted();
  };
}

}  // namespace voxlog::routes
