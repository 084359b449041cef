// All of voxlogd's routes, in one place. Handlers stay short: they parse, authenticate and hand over to
// the actors (webhooks) or to read_api.cpp (reads).
#include "http/server.hpp"

#include <algorithm>
#include <fstream>
#include <future>
#include <sstream>

#include "actors/dialer.hpp"
#include "actors/messages.hpp"
#include "actors/projector.hpp"
#include "http/campaign_routes.hpp"
#include "http/read_api.hpp"
#include "http/reason_phrase.hpp"
#include "http/respond.hpp"
#include "http/restinio_fwd.hpp"
#include "http/twilio_signature.hpp"
#include "http/webhook_parse.hpp"
#include "http/websocket.hpp"

namespace voxlog {
namespace {

using http::RequestHandle;

std::string header(const RequestHandle& req, restinio::string_view_t name) {
  return header_of(req, name);
}

}  // namespace

namespace {

// The URL Twilio requested: the configured public URL, else what the Host header says (and, only with
// TRUST_PROXY=on, what the proxy says in X-Forwarded-Proto and X-Forwarded-Host).
std::string url_as_twilio_saw_it(const ServerContext& ctx, const RequestHandle& req) {
  std::string target(req->header().request_target());
  if (!ctx.config.public_url.empty()) return ctx.config.public_url + target;
  std::string proto = ctx.config.trust_proxy ? header(req, "X-Forwarded-Proto") : std::string();
  std::string host = ctx.config.trust_proxy ? header(req, "X-Forwarded-Host") : std::string();
  if (host.empty()) host = header(req, "Host");
  return (proto.empty() ? "http" : proto) + "://" + host + target;
}

// Parses a form body into `form` when it checks a signature (parse_webhook then reuses it), but only
// after the signature header is known to be there: an unsigned request learns nothing about its body.
Status verify_signature(const ServerContext& ctx, const RequestHandle& req, const std::string& kind,
                        std::optional<FormParams>& form) {
  if (!ctx.config.verify_webhooks) return Status::ok();  // VERIFY_WEBHOOKS=off: loopback only, logged at start
  const std::string& token = ctx.webhook_auth_token;
  std::string signature = header(req, "X-Twilio-Signature");
  if (signature.empty()) return {StatusCode::permission_denied, "missing X-Twilio-Signature"};
  std::string url = url_as_twilio_saw_it(ctx, req);
  bool valid = false;
  if (kind == "json") {
    valid = twilio::verify_json(token, signature, url, req->body());
  } else if (kind == "form") {
    auto params = parse_form(req->body());
    if (!params) return params.status();
    form = std::move(*params);
    valid = twilio::verify_form(token, signature, url, *form);
  }
  if (!valid) return {StatusCode::permission_denied, "X-Twilio-Signature does not match this request"};
  return Status::ok();
}

WebhookResult result_for(const Status& s) {
  if (s.code() == StatusCode::permission_denied) return WebhookResult::forbidden;
  if (s.code() == StatusCode::invalid_argument) return WebhookResult::bad_request;
  return WebhookResult::failed;
}

auto webhook_handler(const ServerContext& ctx, WebhookRoute route) {
  return [&ctx, route](const RequestHandle& req, const http::RouteParams&) {
    ctx.metrics->http_request();
    std::string instance(req->header().path());
    auto fail = [&](const Status& s) {
      ctx.metrics->webhook(route, result_for(s));
      respond(ctx, req, problem_for(s, instance));
      return restinio::request_accepted();
    };
    std::string content_type = header(req, "Content-Type");
    std::string kind = body_kind(content_type);
    if (kind.empty()) {
      ctx.metrics->webhook(route, WebhookResult::bad_request);
      respond(ctx, req,
              problem(415, "Unsupported Media Type",
                      "send application/json or application/x-www-form-urlencoded", instance));
      return restinio::request_accepted();
    }
    std::optional<FormParams> form;  // parsed once, for the signature and for the webhook
    if (Status s = verify_signature(ctx, req, kind, form); !s) return fail(s);
    auto webhook = parse_webhook(route, content_type, req->body(), header(req, "I-Twilio-Idempotency-Token"),
                                 now_ms(), form ? &*form : nullptr);
    if (!webhook) return fail(webhook.status());
    Metrics* metrics = ctx.metrics;
    const ServerContext* context = &ctx;
    WebhookReply reply = [req, metrics, route, context, instance](const Result<AppendResult>& r) {
      if (!r) {
        metrics->webhook(route, WebhookResult::failed);
        respond(*context, req, problem_for(r.status(), instance));
        return;
      }
      metrics->webhook(route, r->duplicate ? WebhookResult::duplicate : WebhookResult::accepted);
      respond(*context, req,
              json_response(200, {{"success", true}, {"seq", r->last_seq}, {"duplicate", r->duplicate}}));
    };
    ctx.calls->route(std::move(*webhook), std::move(reply));
    return restinio::request_accepted();
  };
}

// Wraps a read route: answer_read with what `fn` computes from the request and its route parameters.
template <class Fn>
auto read_handler(const ServerContext& ctx, Fn fn) {
  return [&ctx, fn](const RequestHandle& req, http::RouteParams params) {
    auto kept = std::make_shared<http::RouteParams>(std::move(params));  // the read may run later
    answer_read(ctx, req, [fn, req, kept] { return fn(req, *kept); });
    return restinio::request_accepted();
  };
}

std::string content_type_for(const std::string& path) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

HttpResponse static_file(const ServerContext& ctx, std::string path) {
  if (path.empty() || path == "/") path = "/index.html";
  if (path.find("..") != std::string::npos) return problem(404, "Not Found", "no such file");
  std::ifstream in(ctx.static_dir + path, std::ios::binary);
  if (!in) return problem(404, "Not Found", "no route or file for " + path.substr(0, 200));
  std::ostringstream body;
  body << in.rdbuf();
  return {200, content_type_for(path), body.str()};
}

// The body of a start route as a JSON object, or the 400 that says why not.
Result<nlohmann::json> json_object_body(const RequestHandle& req, const char* example) {
  auto body = nlohmann::json::parse(req->body(), nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return invalid_argument(std::string("the body must be a JSON object such as ") + example);
  return body;
}

// Twilio refusing our credentials or failing is the server's problem (502), not the caller's.
HttpResponse dial_problem(const DialOutcome& o, const std::string& instance) {
  if (o.http_status == 400 || o.status.code() == StatusCode::invalid_argument)
    return problem(400, "Bad Request", o.status.message(), instance);
  if (o.status.code() == StatusCode::conflict) return problem(409, "Conflict", o.status.message(), instance);
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
    if (HttpResponse refused = start(req, *body, instance, caller->name); refused.status != 0)
      respond(ctx, req, refused);
    return restinio::request_accepted();
  };
}

void add_start_routes(http::Router& r, const ServerContext& ctx) {
  r.http_post(
      "/api/calls/start",
      start_handler(
          ctx, "{\"to\": \"+447700900123\"}",
          [&ctx](const RequestHandle& req, const nlohmann::json& body, const std::string& instance,
                 const std::string& by) {
            auto to = body.find("to");
            if (to == body.end() || !to->is_string() || to->get<std::string>().empty())
              return problem(400, "Bad Request", "'to' is required: the phone number to call", instance);
            const ServerContext* context = &ctx;
            DialReply reply = [req, context, instance](const DialOutcome& o) {
              if (!o.status) return respond(*context, req, dial_problem(o, instance));
              respond(*context, req,
                      json_response(200, {{"success", true},
                                          {"message", "Call started"},
                                          {"data", {{"execution_sid", o.execution_sid}, {"to", o.to}}}}));
            };
            caf::anon_send(ctx.dialer, dial_atom::value, to->get<std::string>(), by, std::move(reply));
            return HttpResponse{0, {}, {}};
          }));
  r.http_post(
      "/api/calls/start-bulk",
      start_handler(
          ctx, "{\"phoneNumbers\": [\"+447700900123\"]}",
          [&ctx](const RequestHandle& req, const nlohmann::json& body, const std::string& instance,
                 const std::string& by) {
            auto numbers = body.find("phoneNumbers");
            if (numbers == body.end() || !numbers->is_array() ||
                !std::all_of(numbers->begin(), numbers->end(),
                             [](const nlohmann::json& n) { return n.is_string(); }))
              return problem(400, "Bad Request", "'phoneNumbers' must be an array of phone number strings",
                             instance);
            const ServerContext* context = &ctx;
            BatchReply reply = [req, context, instance](const Result<BatchAccepted>& b) {
              if (!b) return respond(*context, req, problem_for(b.status(), instance));
              respond(
                  *context, req,
                  json_response(
                      200, {{"success", true},
                            {"message", "Bulk call started"},
                            {"data",
                             {{"total", b->total}, {"initiated", b->initiated}, {"batchId", b->batch_id}}}}));
            };
            caf::anon_send(ctx.dialer, batch_atom::value, numbers->get<std::vector<std::string>>(), by,
                           std::move(reply));
            return HttpResponse{0, {}, {}};
          }));
}

std::unique_ptr<http::Router> make_router(const ServerContext& ctx) {
  auto r = std::make_unique<http::Router>();

  r->http_get("/healthz", [&ctx](const RequestHandle& req, auto) {
    // Without a credential a prober learns that the server is up, and nothing else.
    if (!caller_for(ctx.config, header(req, "Authorization"))) {
      respond(ctx, req, json_response(200, {{"status", "ok"}}));
      return restinio::request_accepted();
    }
    nlohmann::json body = {{"status", "ok"},
                           {"lastSeq", ctx.store->last_seq()},
                           {"viewCheckpoint", ctx.view->checkpoint()},
                           {"simulator", ctx.config.simulate()},
                           {"simulatorUrl", ctx.simulator_url.empty() ? nlohmann::json(nullptr)
                                                                      : nlohmann::json(ctx.simulator_url)},
                           {"subscribers", ctx.metrics->subscribers()},
                           {"callActors", ctx.metrics->call_actors()}};
    respond(ctx, req, json_response(200, body));
    return restinio::request_accepted();
  });
  r->http_get("/metrics", [&ctx](const RequestHandle& req, auto) {
    if (!admit(ctx, req, Role::metrics)) return restinio::request_accepted();
    std::string extra =
        "# HELP voxlog_log_last_seq Highest committed seq.\n# TYPE voxlog_log_last_seq gauge\n"
        "voxlog_log_last_seq " +
        std::to_string(ctx.store->last_seq()) + "\n";
    respond(ctx, req, {200, "text/plain; version=0.0.4; charset=utf-8", ctx.metrics->render(extra)});
    return restinio::request_accepted();
  });

  add_start_routes(*r, ctx);
  add_campaign_routes(*r, ctx);  // pause and resume what start-bulk began
  r->http_get("/api/events", read_handler(ctx, [&ctx](const RequestHandle& req, const http::RouteParams&) {
                return global_events(*ctx.store, query_of(req));
              }));
  r->http_get("/api/calls", read_handler(ctx, [&ctx](const RequestHandle& req, const http::RouteParams&) {
                return list_calls(*ctx.view, query_of(req));
              }));
  for (const auto& install : ctx.extra_routes) install(r.get());
  r->http_get("/api/calls/:id/events",
              read_handler(ctx, [&ctx](const RequestHandle&, const http::RouteParams& p) {
                return call_events(*ctx.view, *ctx.store, std::string(p["id"]));
              }));
  r->http_get("/api/calls/:id", read_handler(ctx, [&ctx](const RequestHandle&, const http::RouteParams& p) {
                return get_call(*ctx.view, std::string(p["id"]));
              }));

  r->http_get("/ws", [&ctx](const RequestHandle& req, auto) {
    ctx.metrics->http_request();
    if (!admit(ctx, req, Role::viewer, TokenIn::header_or_query)) return restinio::request_accepted();
    auto q = query_of(req);
    std::uint64_t after = 0;
    if (auto it = q.find("after"); it != q.end() && !it->second.empty()) {
      if (it->second.size() > 19 || it->second.find_first_not_of("0123456789") != std::string::npos) {
        respond(ctx, req, problem(400, "Bad Request", "query parameter 'after' must be a seq number", "/ws"));
        return restinio::request_accepted();
      }
      after = std::stoull(it->second);
    }
    return upgrade_to_websocket(req, ctx.broadcaster, after, ctx.ws_max_queue);
  });

  r->add_handler(restinio::http_method_options(), "/api/:rest(.*)", [&ctx](const RequestHandle& req, auto) {
    auto resp = req->create_response(restinio::status_no_content());
    add_cors(ctx, req, resp);
    resp.append_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
    resp.append_header("Access-Control-Allow-Headers", "Content-Type, Authorization");
    resp.done();
    return restinio::request_accepted();
  });
  r->http_get("/:path(.*)", [&ctx](const RequestHandle& req, const http::RouteParams& p) {
    respond(ctx, req, static_file(ctx, "/" + std::string(p["path"])));
    return restinio::request_accepted();
  });
  r->non_matched_request_handler([&ctx](const RequestHandle& req) {
    respond(ctx, req,
            problem(404, "Not Found", "no route for " + std::string(req->header().path()).substr(0, 200),
                    std::string(req->header().path()).substr(0, 200)));
    return restinio::request_accepted();
  });
  return r;
}

// Webhooks, most of the traffic, go by exact path; everything else through the express router.
restinio::default_request_handler_t make_request_handler(const ServerContext& ctx) {
  std::shared_ptr<http::Router> router = make_router(ctx);
  auto flow = webhook_handler(ctx, WebhookRoute::flow);
  auto status = webhook_handler(ctx, WebhookRoute::status);
  auto dtmf = webhook_handler(ctx, WebhookRoute::dtmf);
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

// RESTinio's limits: where it closes the connection without an answer. Four times ours (at least 4 MiB
// of body, 256 KiB of a header field), so that what exceeds ours by a little or a lot gets its answer.
std::size_t hard_header_limit(const Config& c) {
  return std::max<std::size_t>(4 * c.max_header_bytes, 256 << 10);
}

restinio::incoming_http_msg_limits_t hard_limits(const Config& c) {
  std::uint64_t body = std::max<std::uint64_t>(4 * std::max(c.max_body_bytes, c.max_api_body_bytes), 4 << 20);
  std::size_t field = hard_header_limit(c);
  return restinio::incoming_http_msg_limits_t{}
      .max_body_size(body)
      .max_url_size(64 << 10)
      .max_field_name_size(field)
      .max_field_value_size(field)
      .max_field_count(256);
}

}  // namespace

struct HttpServer::Impl {
  ServerContext ctx;
  int port = 0;
  restinio::running_server_handle_t<http::Traits> server;
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
  auto port_future = bound->get_future();
  try {
    impl->server = restinio::run_async<http::Traits>(
        restinio::own_io_context(),
        restinio::server_settings_t<http::Traits>{}
            .address(impl->ctx.config.bind_address)
            .port(static_cast<std::uint16_t>(impl->ctx.config.port))
            .request_handler(make_request_handler(impl->ctx))
            // Requests past the configured limits get 413/414/431 from screened_out(); RESTinio can only
            // drop a connection, so its own limits sit well above ours and only stop abuse.
            .incoming_http_msg_limits(hard_limits(impl->ctx.config))
            .max_parallel_connections(impl->ctx.config.max_connections)
            .read_next_http_message_timelimit(std::chrono::milliseconds(impl->ctx.config.header_timeout_ms))
            // RESTinio leaves Nagle's algorithm on: a WebSocket frame written while the previous one is
            // unacknowledged would wait for that ACK (up to the peer's delayed-ACK timeout).
            .socket_options_setter([](auto& options) { options.set_option(asio::ip::tcp::no_delay{true}); })
            .acceptor_post_bind_hook([bound](asio::ip::tcp::acceptor& acceptor) {
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

void HttpServer::stop() {
  if (!impl_ || !impl_->server || impl_->stopped) return;
  impl_->server->stop();
  impl_->server->wait();
  // The io_context stays alive until the destructor: a request handle that an actor still holds (a
  // webhook whose commit was under way) cancels its timers on it when it is released (stack-notes G13).
  impl_->stopped = true;
}

}  // namespace voxlog
