// The handlers of voxlogd's routes, grouped by area, one file each; http/server.cpp binds them in its
// route table, one line a route.
//
// Contract: each factory returns the handler of one route over `ctx`, the HttpServer's own copy of the
// context, which outlives every request (main stops the actors before it destroys the server). Before
// any handler runs, the request has been screened (respond.hpp: Host, Origin, sizes, media type). A
// handler admits the caller with the role its route needs, parses and validates, then answers at once
// (reads, refusals) or hands over to an actor that answers later (a webhook once it is durable, a start
// once the dialer has asked Twilio). The Node app's routes are in http/compat/.
//
// Thread-safety: handlers run on the server's io thread; answers may come from actors' threads.
#pragma once

#include <string>

#include "actors/campaign/campaigns.hpp"
#include "actors/webhook.hpp"
#include "http/restinio_fwd.hpp"
#include "http/server.hpp"

namespace voxlog::routes {

using Handler = restinio::router::express_request_handler_t;

// webhook_routes.cpp: Twilio's requests, X-Twilio-Signature verified, answered once durable.
Handler webhook(const ServerContext& ctx, WebhookRoute route);

// call_routes.cpp: placing calls (operator, rate-limited), and the Twilio account a request picks with its
// `account` or `region` fields (start, start-bulk, campaigns, lists; a CSV import's query): the default
// when it names none, else invalid_argument naming the valid ones.
Handler start_call(const ServerContext& ctx);
Handler start_bulk(const ServerContext& ctx);
Result<const TwilioAccount*> chosen_account(const ServerContext& ctx, const nlohmann::json& fields);

// campaign_routes.cpp: campaigns (create and control: operator; read: viewer; export: admin), and the
// defaults every import of contacts takes from the configuration (campaigns, start-bulk, lists).
ImportDefaults import_defaults(const ServerContext& ctx);
Handler create_campaign(const ServerContext& ctx);
Handler list_campaigns(const ServerContext& ctx);
Handler get_campaign(const ServerContext& ctx);
Handler campaign_contacts(const ServerContext& ctx);
Handler export_campaign(const ServerContext& ctx);
Handler control_campaign(const ServerContext& ctx, Campaigns::Control what);

// list_routes.cpp: contact lists (read: viewer; create, delete, call: operator).
Handler list_lists(const ServerContext& ctx);
Handler create_list(const ServerContext& ctx);
Handler delete_list(const ServerContext& ctx);
Handler start_bulk_from_list(const ServerContext& ctx);

// compat/queue_routes.cpp: the Node app's call queues, which are campaigns (read: viewer; control: operator).
Handler list_queues(const ServerContext& ctx);
Handler get_queue(const ServerContext& ctx);
Handler start_queue(const ServerContext& ctx);
Handler pause_queue(const ServerContext& ctx);
Handler delete_queue(const ServerContext& ctx);

// dnc_routes.cpp: the do-not-call list (read: viewer; change: admin).
Handler dnc_list(const ServerContext& ctx);
Handler dnc_add(const ServerContext& ctx);
Handler dnc_remove(const ServerContext& ctx);
Handler dnc_import(const ServerContext& ctx);

// read_routes.cpp: the views and the log (viewer), the live feed, health, the dashboard's files.
Handler health(const ServerContext& ctx);
Handler metrics(const ServerContext& ctx);
Handler list_calls(const ServerContext& ctx);
Handler get_call(const ServerContext& ctx);
Handler call_events(const ServerContext& ctx);
Handler global_events(const ServerContext& ctx);
Handler live_feed(const ServerContext& ctx);  // /ws
Handler static_files(const ServerContext& ctx);
// A CORS preflight answer allowing `methods` (for example "GET, POST, OPTIONS").
Handler preflight(const ServerContext& ctx, std::string methods);
// The 404 for what no route takes.
restinio::router::non_matched_request_handler_t not_found(const ServerContext& ctx);

}  // namespace voxlog::routes
