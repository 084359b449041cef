// The do-not-call list: read it (viewer), add or remove a number, import a CSV or JSON list (admin). Each
// change is an event of stream "dnc", answered once it is durable AND in the view, so the next dial sees it.
#include <set>

#include "actors/campaign/campaigns.hpp"
#include "actors/campaign/csv.hpp"
#include "actors/projection/read_barrier.hpp"
#include "actors/twilio/phone.hpp"
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

json entry_json(const DncEntry& e) {
  return {{"phone", e.phone}, {"since", e.since_ms}, {"by", string_or_null(e.by)}, {"source", e.source}};
}

// Appends `events` to the dnc stream and answers `ok` once the view has them.
void record(const ServerContext& ctx, const RequestHandle& req, std::vector<NewEvent> events, json ok,
            std::shared_ptr<void> turn) {
  std::string instance(req->header().path());
  if (events.empty()) return respond(ctx, req, json_response(200, {{"success", true}, {"data", ok}}));
  const ServerContext* context = &ctx;
  AppendRequest request{stream_prefix::dnc, std::move(events), std::nullopt, {}, source::api, 0};
  ctx.store->append(std::move(request), [context, req, ok, instance, turn](const Result<AppendResult>& r) {
    if (!r) return respond(*context, req, problem_for(r.status(), instance));
    auto answer = [context, req, ok, turn] {
      respond(*context, req, json_response(200, {{"success", true}, {"data", ok}}));
    };
    if (context->reads) return context->reads->when_committed(r->last_seq, answer);
    answer();
  });
}

// Admits an admin and normalises the :phone of the path; nullopt after answering.
std::optional<std::pair<Caller, std::string>> admit_phone(const ServerContext& ctx, const RequestHandle& req,
                                                          const RouteParams& params) {
  ctx.metrics->http_request();
  auto caller = admit(ctx, req, Role::admin);
  if (!caller) return std::nullopt;
  std::string raw = restinio::utils::unescape_percent_encoding(params["phone"]);
  auto phone = normalize_e164(raw, ctx.config.default_region);
  if (!phone) {
    respond(ctx, req, problem_for(phone.status(), std::string(req->header().path())));
    return std::nullopt;
  }
  return std::make_pair(*caller, *phone);
}

}  // namespace

Handler dnc_list(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle&, const RouteParams&) {
    json list = json::array();
    for (const DncEntry& e : ctx.view->dnc_list()) list.push_back(entry_json(e));
    return json_response(200, {{"success", true}, {"data", list}});
  });
}

namespace {

// PUT lists the number, DELETE takes it off; either is a no-op (changed: false) when it already is so.
Handler dnc_change(const ServerContext& ctx, bool listed) {
  return [&ctx, listed](const RequestHandle& req, const RouteParams& params) {
    auto change = admit_phone(ctx, req, params);
    if (!change) return restinio::request_accepted();
    auto turn = take_turn(ctx, req);
    if (!turn) return restinio::request_accepted();
    auto& [caller, phone] = *change;
    std::vector<NewEvent> events;
    if (ctx.view->dnc_find(phone).has_value() != listed) {
      json data = {{"phone", phone}, {"by", caller.name}};
      if (listed) data["source"] = "api";
      events.push_back({listed ? event_type::dnc_added : event_type::dnc_removed, std::move(data)});
    }
    json ok = {{"phone", phone}, {"listed", listed}, {"changed", !events.empty()}};
    record(ctx, req, std::move(events), std::move(ok), turn);
    return restinio::request_accepted();
  };
}

}  // namespace

Handler dnc_add(const ServerContext& ctx) {
  return dnc_change(ctx, true);
}

Handler dnc_remove(const ServerContext& ctx) {
  return dnc_change(ctx, false);
}

// POST /api/dnc: text/csv with a `phone` column, or JSON {"phones": [...]}. Invalid rows are reported.
Handler dnc_import(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, const RouteParams&) {
    auto admitted = admit_change(ctx, req, Role::admin);  // a stop waits for this answer
    if (!admitted) return restinio::request_accepted();
    const Caller* caller = &admitted->caller;
    auto turn = admitted->turn;
    std::string by = caller->name;
    const ServerContext* context = &ctx;
    ctx.campaigns->run_detached([context, req, turn, by] {
      std::string instance(req->header().path());
      std::vector<std::pair<std::size_t, std::string>> rows;  // (row, phone as given)
      if (lower_ascii(header_of(req, "Content-Type")).rfind("text/csv", 0) == 0) {
        int column = -1;
        Status parsed = for_each_csv_record(req->body(), [&](std::vector<std::string>& f, std::size_t line) {
          if (column < 0) {
            for (std::size_t i = 0; i < f.size(); ++i)
              if (lower_ascii(f[i]) == "phone") column = static_cast<int>(i);
            if (column < 0) column = 0;  // a headerless list of numbers: its first line is a number too
            if (lower_ascii(f[static_cast<std::size_t>(column)]) == "phone") return true;
          }
          if (static_cast<std::size_t>(column) < f.size())
            rows.emplace_back(line, f[static_cast<std::size_t>(column)]);
          return rows.size() <= context->config.max_campaign_contacts;
        });
        if (!parsed) {
          respond(*context, req, problem_for(parsed, instance));
          return;
        }
      } else {
        auto parsed = parse_untrusted_json(req->body());
        json body = parsed ? std::move(*parsed) : json();
        auto phones = body.is_object() ? body.find("phones") : body.end();
        if (!body.is_object() || phones == body.end() || !phones->is_array()) {
          std::string why =
              parsed ? std::string("send {\"phones\": [\"+44...\"]} or text/csv with a phone column")
                     : "the body is " + parsed.status().message();
          respond(*context, req, problem(400, "Bad Request", why, instance));
          return;
        }
        std::size_t row = 0;
        for (const json& p : *phones)
          rows.emplace_back(++row, p.is_string() ? p.get<std::string>() : p.dump());
      }
      std::vector<NewEvent> events;
      json rejected = json::array();
      std::set<std::string> seen;
      for (const auto& [row, raw] : rows) {
        auto phone = normalize_e164(raw, context->config.default_region);
        if (!phone) {
          rejected.push_back(
              {{"row", row}, {"phone", raw.substr(0, 64)}, {"reason", phone.status().message()}});
        } else if (seen.insert(*phone).second && !context->view->dnc_find(*phone)) {
          events.push_back({event_type::dnc_added, {{"phone", *phone}, {"by", by}, {"source", "import"}}});
        }
      }
      json ok = {{"added", events.size()}, {"rejected", rejected}};
      record(*context, req, std::move(events), ok, turn);
    });
    return restinio::request_accepted();
  };
}

}  // namespace voxlog::routes
