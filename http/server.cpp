// voxlogd's routes, all in one table, one line each; the handlers live in http/routes/ (by area) and
// http/compat/ (the Node app's). Every request is screened first (respond.hpp: sizes, Host, Origin,
// media type); each handler then admits the role its route needs.
#include "http/server.hpp"

#include <algorithm>
#include <future>

#include <sys/resource.h>

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
std::function<restinio::request_handling_status_t(RequestHandle)> make_routing(const ServerContext& ctx) {
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

// RESTinio 0.6 drops a connection with pipelined requests when an answer is written from inside its
// handler call: the read it starts after that write and the one it starts after the handler returns
// both take a request slot, and the slot table overflows. So requests are routed in the next turn of the
// io loop (on `io`, the server's, known once it binds), their answers written from there. Upgrades
// (WebSocket, Socket.IO) are routed at once: they take over the socket, which only the handler call may.
restinio::default_request_handler_t make_request_handler(const ServerContext& ctx,
                                                         std::shared_ptr<asio::any_io_executor> io) {
  // Shared, not copied into each posted task: a copy of the route's handlers would allocate per request.
  auto route = std::make_shared<const std::function<restinio::request_handling_status_t(RequestHandle)>>(
      make_routing(ctx));
  const ServerContext* context = &ctx;
  return [context, route, io](RequestHandle req) {
    http::note_request(req->connection_id(), req);  // a parse error behind it must not be answered
    if (req->header().connection() == restinio::http_connection_header_t::upgrade) return (*route)(req);
    asio::post(*io, [context, route, req = std::move(req)] {
      if ((*route)(req) != restinio::request_accepted())
        respond(*context, req, problem(404, "Not Found", "no route for this request"));
    });
    return restinio::request_accepted();
  };
}

// Requests a connection may have under way at once (HTTP/1.1 pipelining); answers go out in order.
constexpr std::size_t kPipelinedRequests = 32;

// The connection cap, within the open-file limit: a quarter of the descriptors (at least 64) stay for the
// log, the Twilio client, the simulator, the dashboard's files and the refusals (edge_acceptor.hpp).
std::size_t connection_cap(const Config& c) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return c.max_connections;
  std::size_t files = limit.rlim_cur;
  std::size_t reserve = std::max<std::size_t>(64, files / 4);
  return std::clamp<std::size_t>(files > reserve ? files - reserve : 1, 1, c.max_connections);
}

// The longest a handler may take to answer (see handle_request_timeout below).
constexpr std::chrono::seconds kLongestAnswer{180};

// RESTinio's limits, past which it stops reading and EdgeSocket answers (413, 414, 431: edge_socket.hpp).
// A body larger than every route allows is refused as soon as its Content-Length is read; smaller ones
// are read and get their route's limit from screened_out(). Request line and headers may reach four times
// MAX_HEADER_BYTES (at least 256 KiB) so that screened_out() answers them with its detail.
std::size_t hard_header_limit(const Config& c) {
  return std::max<std::size_t>(4 * c.max_header_bytes, 256 << 10);
}

restinio::incoming_http_msg_limits_t hard_limits(const Config& c) {
  std::uint64_t body =
      std::max<std::uint64_t>({c.max_body_bytes, c.max_api_body_bytes, std::uint64_t{c.max_import_bytes}});
  std::size_t field = hard_header_limit(c);
  return restinio::incoming_http_msg_limits_t{}
      .max_body_size(body)
      .max_url_size(field / 2)  // below http_parser's cap on line and headers: a long target gets 414
      .max_field_name_size(field)
      .max_field_value_size(field)
      .max_field_count(field / 16);
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
  auto io = std::make_shared<asio::any_io_executor>();
  Impl* raw = impl.get();
  auto port_future = bound->get_future();
  try {
    impl->server = restinio::run_async<http::Traits>(
        restinio::external_io_context(impl->io),
        restinio::server_settings_t<http::Traits>{}
            .address(impl->ctx.config.bind_address)
            .port(static_cast<std::uint16_t>(impl->ctx.config.port))
            .request_handler(make_request_handler(impl->ctx, io))
            // Requests past the configured limits get 413/414/431 from screened_out() or EdgeSocket.
            .incoming_http_msg_limits(hard_limits(impl->ctx.config))
            .max_parallel_connections(connection_cap(impl->ctx.config))
            // RESTinio's default of one request at a time on a connection loses pipelined requests: the
            // one read while the first answer is written finds no free slot and drops the connection.
            .max_pipelined_requests(kPipelinedRequests)
            .read_next_http_message_timelimit(std::chrono::milliseconds(impl->ctx.config.header_timeout_ms))
            // A start is answered once Twilio has answered, retries included (StudioClient: up to five
            // attempts of 15 s with backoff), and an import of 100,000 rows takes seconds: RESTinio's
            // default of 10 s would drop the connection while the call may still be placed.
            .handle_request_timeout(kLongestAnswer)
            // RESTinio leaves Nagle's algorithm on: a WebSocket frame written while the previous one is
            // unacknowledged would wait for that ACK (up to the peer's delayed-ACK timeout).
            .socket_options_setter([](auto& options) { options.set_option(asio::ip::tcp::no_delay{true}); })
            .acceptor_post_bind_hook([bound, raw, io](asio::ip::tcp::acceptor& acceptor) {
              raw->acceptor = &acceptor;
              *io = acceptor.get_executor();  // before listen(): before any request
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
