// voxlogd's routes, all in one table, one line each; the handlers live in http/routes/ (by area) and
// http/compat/ (the Node app's). Every request is screened first (respond.hpp: sizes, Host, Origin,
// media type); each handler then admits the role its route needs.
#include "http/server.hpp"

#include <algorithm>
#include <future>

#include "http/compat/legacy_routes.hpp"
#include "http/compat/socketio.hpp"
#include "http/respond.hpp"
#include "http/restinio_fwd.hpp"
#include "http/routes/routes.hpp"

namespace voxlog {
namespace {

using http::RequestHandle;

// Order matters where patterns overlap: the Node app's /api/calls/history... and /stats before
// /api/calls/:id, which would take "history" as an id; the dashboard's files last.
std::unique_ptr<http::Router> make_router(const ServerContext& ctx) {
  using namespace routes;
  const auto& sio = *ctx.socket_io;
  auto r = std::make_unique<http::Router>();
  const auto options = restinio::http_method_options();
  // method, path, handler                                                     who may call it
  r->http_get("/healthz", health(ctx));                                // anyone; details: any token
  r->http_get("/metrics", metrics(ctx));                               // metrics
  r->http_post("/api/calls/start", start_call(ctx));                   // operator
  r->http_post("/api/calls/start-bulk", start_bulk(ctx));              // operator
  r->http_post("/api/campaigns", create_campaign(ctx));                // operator (JSON or CSV)
  r->http_get("/api/campaigns", list_campaigns(ctx));                  // viewer
  r->http_get("/api/campaigns/:id", get_campaign(ctx));                // viewer
  r->http_get("/api/campaigns/:id/contacts", campaign_contacts(ctx));  // viewer
  r->http_get("/api/campaigns/:id/export.csv", export_campaign(ctx));  // admin
  r->http_post("/api/campaigns/:id/pause", control_campaign(ctx, Campaigns::Control::pause));    // operator
  r->http_post("/api/campaigns/:id/resume", control_campaign(ctx, Campaigns::Control::resume));  // operator
  r->http_post("/api/campaigns/:id/cancel", control_campaign(ctx, Campaigns::Control::cancel));  // operator
  r->http_get("/api/lists", list_lists(ctx));                                                    // viewer
  r->http_post("/api/lists", create_list(ctx));                                  // operator (JSON or CSV)
  r->http_delete("/api/lists/:id", delete_list(ctx));                            // operator
  r->http_post("/api/calls/start-bulk-from-list", start_bulk_from_list(ctx));    // operator
  r->http_get("/api/calls/queues", list_queues(ctx));                            // viewer
  r->http_get("/api/calls/queue/:id", get_queue(ctx));                           // viewer
  r->http_post("/api/calls/queue/:id/start", start_queue(ctx));                  // operator
  r->http_post("/api/calls/queue/:id/pause", pause_queue(ctx));                  // operator
  r->http_delete("/api/calls/queue/:id", delete_queue(ctx));                     // operator
  r->http_get("/api/dnc", dnc_list(ctx));                                        // viewer
  r->http_post("/api/dnc", dnc_import(ctx));                                     // admin (JSON or CSV)
  r->http_put("/api/dnc/:phone", dnc_add(ctx));                                  // admin
  r->http_delete("/api/dnc/:phone", dnc_remove(ctx));                            // admin
  r->http_get("/api/events", global_events(ctx));                                // viewer
  r->http_get("/api/calls", list_calls(ctx));                                    // viewer
  r->http_get("/api/calls/history/export/all", history_export(ctx));             // admin
  r->http_get("/api/calls/history/:id", history_of(ctx));                        // viewer
  r->http_get("/api/calls/history", history(ctx));                               // viewer
  r->http_get("/api/calls/stats", stats(ctx));                                   // viewer
  r->http_get("/api/calls/daily-summary", daily_summary(ctx));                   // viewer
  r->http_get("/api/calls/monthly-summary", monthly_summary(ctx));               // viewer
  r->http_get("/api/calls/events", event_feed(ctx));                             // viewer
  r->http_get("/api/calls/:id/events", call_events(ctx));                        // viewer
  r->http_get("/api/calls/:id", get_call(ctx));                                  // viewer
  r->http_get("/ws", live_feed(ctx));                                            // viewer (?token= allowed)
  r->http_get("/socket.io/", sio.get_handler());                                 // viewer (in CONNECT auth)
  r->http_get("/socket.io", sio.get_handler());                                  // viewer (in CONNECT auth)
  r->http_post("/socket.io/", sio.post_handler());                               // its session's
  r->http_post("/socket.io", sio.post_handler());                                // its session's
  r->add_handler(options, "/socket.io/", preflight(ctx, "GET, POST, OPTIONS"));  // anyone (CORS)
  r->add_handler(options, "/socket.io", preflight(ctx, "GET, POST, OPTIONS"));   // anyone (CORS)
  r->add_handler(options, "/api/:rest(.*)", preflight(ctx, "GET, POST, PUT, DELETE, OPTIONS"));  // (CORS)
  r->add_handler(options, "/:path(.*)", preflight(ctx, "GET, POST, PUT, DELETE, OPTIONS"));  // anyone (CORS)
  r->http_get("/:path(.*)", static_files(ctx));  // anyone: the dashboard
  r->non_matched_request_handler(not_found(ctx));
  return r;
}

// Webhooks, most of the traffic, go by exact path before the router, whose std::regex matching cost
// more than the rest of a webhook's path. POST only; signature-verified; answered once durable.
restinio::default_request_handler_t make_request_handler(const ServerContext& ctx) {
  std::shared_ptr<http::Router> router = make_router(ctx);
  auto status = routes::webhook(ctx, WebhookRoute::status);  // POST /api/calls/webhooks/status
  auto dtmf = routes::webhook(ctx, WebhookRoute::dtmf);      // POST /api/calls/webhooks/dtmf
  auto flow = routes::webhook(ctx, WebhookRoute::flow);      // POST /api/calls/webhooks/flow
  const ServerContext* context = &ctx;
  return [context, router, flow, status, dtmf](RequestHandle req) {
    if (screened_out(*context, req)) return restinio::request_accepted();
    if (req->header().method() == restinio::http_method_post()) {
      restinio::string_view_t path = req->header().path();
      if (path == "/api/calls/webhooks/status") return status(req, {});
      if (path == "/api/calls/webhooks/dtmf") return dtmf(req, {});
      if (path == "/api/calls/webhooks/flow") return flow(req, {});
    }
    return (*router)(std::move(req));
  };
}

// The longest a handler may take to answer (see handle_request_timeout below).
constexpr std::chrono::seconds kLongestAnswer{180};

// RESTinio's limits: where it closes the connection without an answer. Four times ours (at least 4 MiB
// of body, 256 KiB of a header field), so that what exceeds ours by a little or a lot gets its answer.
std::size_t hard_header_limit(const Config& c) {
  return std::max<std::size_t>(4 * c.max_header_bytes, 256 << 10);
}

restinio::incoming_http_msg_limits_t hard_limits(const Config& c) {
  std::uint64_t body =
      std::max<std::uint64_t>({4 * std::max(c.max_body_bytes, c.max_api_body_bytes), std::uint64_t{4} << 20,
                               2 * std::uint64_t{c.max_import_bytes}});
  std::size_t field = hard_header_limit(c);
  return restinio::incoming_http_msg_limits_t{}
      .max_body_size(body)
      .max_url_size(64 << 10)
      .max_field_name_size(field)
      .max_field_value_size(field)
      .max_field_count(256);
}

}  // namespace

// The server's io_context, with asio's shutdown() (protected in asio) reachable. RESTinio's http_server_t
// frees its acceptor, which holds the connection counter, before its io_context: the reads still pending
// on open connections were then destroyed with the io_context and each connection decremented the freed
// counter (a use-after-free under ASan; the "pthread_mutex_lock: Assertion" abort seen on SIGTERM).
// stop() shuts it down while the acceptor lives; it is destroyed after the server.
class ServerIoContext : public asio::io_context {
 public:
  using asio::execution_context::shutdown;
};

struct HttpServer::Impl {
  ServerContext ctx;
  int port = 0;
  ServerIoContext io;  // before `server`: destroyed after it
  restinio::running_server_handle_t<http::Traits> server;
  asio::ip::tcp::acceptor* acceptor = nullptr;  // RESTinio's, set when it binds; lives as long as `server`
  bool stopped = false;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() {
  stop();
}
int HttpServer::port() const {
  return impl_->port;
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(ServerContext context) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = std::move(context);
  // http_parser's own cap on a request's headers (80 KiB when compiled) is process-wide; it must sit
  // above MAX_HEADER_BYTES, or a request a little over ours would lose its connection instead of a 431.
  http_parser_set_max_header_size(static_cast<std::uint32_t>(hard_header_limit(impl->ctx.config)));
  auto bound = std::make_shared<std::promise<int>>();
  Impl* raw = impl.get();
  auto port_future = bound->get_future();
  try {
    impl->server = restinio::run_async<http::Traits>(
        restinio::external_io_context(impl->io),
        restinio::server_settings_t<http::Traits>{}
            .address(impl->ctx.config.bind_address)
            .port(static_cast<std::uint16_t>(impl->ctx.config.port))
            .request_handler(make_request_handler(impl->ctx))
            // Requests past the configured limits get 413/414/431 from screened_out(); RESTinio can only
            // drop a connection, so its own limits sit well above ours and only stop abuse.
            .incoming_http_msg_limits(hard_limits(impl->ctx.config))
            .max_parallel_connections(impl->ctx.config.max_connections)
            .read_next_http_message_timelimit(std::chrono::milliseconds(impl->ctx.config.header_timeout_ms))
            // A start is answered once Twilio has answered, retries included (StudioClient: up to five
            // attempts of 15 s with backoff), and an import of 100,000 rows takes seconds: RESTinio's
            // default of 10 s would drop the connection while the call may still be placed.
            .handle_request_timeout(kLongestAnswer)
            // RESTinio leaves Nagle's algorithm on: a WebSocket frame written while the previous one is
            // unacknowledged would wait for that ACK (up to the peer's delayed-ACK timeout).
            .socket_options_setter([](auto& options) { options.set_option(asio::ip::tcp::no_delay{true}); })
            .acceptor_post_bind_hook([bound, raw](asio::ip::tcp::acceptor& acceptor) {
              raw->acceptor = &acceptor;
              bound->set_value(acceptor.local_endpoint().port());
            }),
        1);
  } catch (const std::exception& e) {
    return unavailable("cannot listen on " + impl->ctx.config.bind_address + ":" +
                       std::to_string(impl->ctx.config.port) + ": " + e.what());
  }
  impl->port = port_future.get();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

bool HttpServer::drain(std::chrono::milliseconds limit) {
  impl_->ctx.gate->close();
  // No new connection either: clients get "connection refused" (and try another node) instead of a
  // connection that the final stop would reset. The acceptor is closed on its own executor.
  if (impl_->acceptor) {
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    asio::post(impl_->acceptor->get_executor(), [acceptor = impl_->acceptor, closed] {
      asio::error_code ignored;
      acceptor->close(ignored);
      closed->set_value();
    });
    done.wait_for(limit);
  }
  return impl_->ctx.gate->wait_idle(limit);
}

void HttpServer::stop() {
  if (!impl_ || !impl_->server || impl_->stopped) return;
  // After a drain: clients still sending on kept-alive connections get their 503s before the close.
  if (impl_->ctx.gate->closed())
    impl_->ctx.gate->wait_quiet(std::chrono::milliseconds(100), std::chrono::seconds(2));
  impl_->server->stop();
  impl_->server->wait();
  // The handlers still pending (reads on open connections) are destroyed now, while RESTinio's acceptor,
  // which each connection reports its end to, still lives. The io_context itself stays alive until the
  // destructor: a request handle that an actor still holds (a webhook whose commit was under way)
  // cancels its timers on it when it is released: destroying the io_context first would crash.
  impl_->io.shutdown();
  impl_->stopped = true;
}

}  // namespace voxlog
