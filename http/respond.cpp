#include "http/respond.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "actors/projection/read_barrier.hpp"
#include "eventstore/text.hpp"
#include "http/reason_phrase.hpp"
#include "http/webhook_parse.hpp"

namespace voxlog {
namespace {

using http::RequestHandle;

constexpr std::size_t kMaxTargetBytes = 8 * 1024;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_webhook_path(std::string_view path) {
  return starts_with(path, "/api/calls/webhooks/");
}

bool changes_state(const restinio::http_method_id_t& method) {
  return method != restinio::http_method_get() && method != restinio::http_method_head() &&
         method != restinio::http_method_options();
}

std::size_t header_bytes(const RequestHandle& req) {
  std::size_t total = req->header().request_target().size();
  req->header().for_each_field(
      [&total](const auto& field) { total += field.name().size() + field.value().size() + 4; });
  return total;
}

// The router decodes the path and drops the connection on a bad escape ("%zz", a lone "%"): such a
// path must be refused before it gets there. Queries stay lenient, as the Node app's parser was.
bool has_bad_escape(std::string_view path) {
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (std::size_t i = path.find('%'); i != std::string_view::npos; i = path.find('%', i + 1))
    if (i + 2 >= path.size() || !hex(path[i + 1]) || !hex(path[i + 2])) return true;
  return false;
}

// A 503 for a server that is stopping: it keeps no connection open.
HttpResponse stopping_answer(const RequestHandle& req) {
  HttpResponse r = problem(503, "Service Unavailable", "voxlogd is stopping: retry shortly",
                           std::string(req->header().path().substr(0, 200)));
  r.close_connection = true;
  return r;
}

}  // namespace

std::string requested_host(const ServerContext& ctx, const RequestHandle& req) {
  if (ctx.config.trust_proxy) {
    std::string forwarded = header_of(req, "X-Forwarded-Host");
    if (!forwarded.empty()) return forwarded.substr(0, forwarded.find(','));
  }
  return header_of(req, "Host");
}

std::string header_of(const RequestHandle& req, restinio::string_view_t name) {
  return std::string(req->header().get_field_or(name, ""));
}

namespace {

// The CORS fields of an answer to `req`: none unless its Origin is allowed.
std::vector<std::pair<std::string, std::string>> cors_fields(const ServerContext& ctx,
                                                             const RequestHandle& req) {
  std::string origin = header_of(req, "Origin");
  if (origin.empty()) return {};
  for (const auto& allowed : ctx.config.allowed_origins) {
    if (allowed == "*")
      return {{"Access-Control-Allow-Origin", "*"}};  // never with credentials (the Fetch spec)
    if (allowed == origin)
      return {{"Access-Control-Allow-Origin", origin},
              {"Access-Control-Allow-Credentials", "true"},
              {"Vary", "Origin"}};
  }
  return {};
}

}  // namespace

void add_cors(const ServerContext& ctx, const RequestHandle& req,
              restinio::response_builder_t<restinio::restinio_controlled_output_t>& resp) {
  for (auto& [name, value] : cors_fields(ctx, req)) resp.append_header(name, value);
}

void respond(const ServerContext& ctx, const RequestHandle& req, const HttpResponse& r) {
  auto resp = req->create_response(restinio::http_status_line_t{
      restinio::http_status_code_t{static_cast<std::uint16_t>(r.status)}, reason_phrase(r.status)});
  resp.append_header(restinio::http_field::content_type, r.content_type);
  resp.append_header("Cache-Control", "no-store");
  int retry_after = r.retry_after_s > 0 ? r.retry_after_s : (r.status == 503 ? 1 : 0);
  if (retry_after > 0) resp.append_header("Retry-After", std::to_string(retry_after));
  add_cors(ctx, req, resp);
  // Once a stop has begun, no connection is kept for another request: the client's next one opens a new
  // connection, which is refused cleanly, instead of racing the final close of this one.
  if (r.close_connection || ctx.gate->closed()) resp.connection_close();
  resp.set_body(r.body);
  resp.done();
}

namespace {

struct Stream {
  restinio::response_builder_t<restinio::chunked_output_t> response;
  std::function<Result<std::string>()> next_piece;
};

// Writes the next piece; the write's completion asks for the one after.
void pump(const std::shared_ptr<Stream>& stream) {
  auto piece = stream->next_piece();
  if (!piece || piece->empty()) {
    stream->response.done();
    return;
  }
  stream->response.append_chunk(std::move(*piece));
  stream->response.flush([stream](const asio::error_code& written) {
    if (!written) pump(stream);  // else the client is gone: the rest is not produced
  });
}

}  // namespace

void stream_answer(const ServerContext& ctx, const RequestHandle& req, const std::string& content_type,
                   std::function<Result<std::string>()> next_piece) {
  auto resp = req->create_response<restinio::chunked_output_t>();
  resp.append_header(restinio::http_field::content_type, content_type);
  resp.append_header("Cache-Control", "no-store");
  for (auto& [name, value] : cors_fields(ctx, req)) resp.append_header(name, value);
  if (ctx.gate->closed()) resp.connection_close();
  pump(std::make_shared<Stream>(Stream{std::move(resp), std::move(next_piece)}));
}

QueryParams query_of(const RequestHandle& req) {
  QueryParams out;
  auto parsed = parse_form(req->header().query());
  if (parsed)
    for (auto& [k, v] : *parsed) out.emplace(std::move(k), std::move(v));
  return out;
}

bool screened_out(const ServerContext& ctx, const RequestHandle& req) {
  const auto& head = req->header();
  std::string path(head.path().substr(0, 200));
  auto refuse = [&](HttpResponse r) {
    respond(ctx, req, r);
    return true;
  };
  if (ctx.gate->closed()) {
    ctx.gate->refused();
    return refuse(stopping_answer(req));
  }
  if (head.request_target().size() > kMaxTargetBytes)
    return refuse(problem(414, "URI Too Long", "the request target exceeds 8192 bytes"));
  if (has_bad_escape(head.path()))
    return refuse(problem(400, "Bad Request", "the path has a malformed percent-escape", path));
  if (header_bytes(req) > ctx.config.max_header_bytes)
    return refuse(problem(431, "Request Header Fields Too Large",
                          "the request line and headers exceed MAX_HEADER_BYTES (" +
                              std::to_string(ctx.config.max_header_bytes) + ")",
                          path));
  std::string host = requested_host(ctx, req);
  if (!host_allowed(ctx.config, host))
    return refuse(problem(421, "Misdirected Request",
                          "this server does not answer to the host '" + host_name(host).substr(0, 100) +
                              "': add it to ALLOWED_HOSTS (or set PUBLIC_URL)",
                          path));
  std::string origin = header_of(req, "Origin");
  if (!origin_allowed(ctx.config, origin, host))
    return refuse(problem(403, "Forbidden",
                          "requests from the origin '" + origin.substr(0, 100) +
                              "' are refused: add it to ALLOWED_ORIGINS to let its pages use this server",
                          path));
  bool webhook = is_webhook_path(head.path());
  // Imports (a campaign's contacts, a do-not-call list) may be big, and may be CSV.
  bool import = head.method() == restinio::http_method_post() &&
                (head.path() == "/api/campaigns" || head.path() == "/api/dnc" || head.path() == "/api/lists");
  std::size_t limit = webhook  ? ctx.config.max_body_bytes
                      : import ? ctx.config.max_import_bytes
                               : ctx.config.max_api_body_bytes;
  const char* limit_name = webhook ? "MAX_BODY_BYTES" : import ? "MAX_IMPORT_BYTES" : "MAX_API_BODY_BYTES";
  if (req->body().size() > limit)
    return refuse(problem(
        413, "Content Too Large",
        std::string("the body exceeds ") + limit_name + " (" + std::to_string(limit) + " bytes)", path));
  if (!webhook && starts_with(head.path(), "/api/") && changes_state(head.method())) {
    std::string type = header_of(req, "Content-Type");
    bool empty_without_type = type.empty() && req->body().empty();
    bool csv = import && lower_ascii(type).rfind("text/csv", 0) == 0;
    if (!empty_without_type && body_kind(type) != "json" && !csv)
      return refuse(problem(415, "Unsupported Media Type",
                            std::string("send the body as application/json") +
                                (import ? " or text/csv" : "") + " (got '" + type.substr(0, 100) + "')",
                            path));
  }
  return false;
}

std::optional<Admitted> admit_change(const ServerContext& ctx, const RequestHandle& req, Role needed) {
  ctx.metrics->http_request();
  auto caller = admit(ctx, req, needed);
  if (!caller) return std::nullopt;
  auto turn = take_turn(ctx, req);
  if (!turn) return std::nullopt;
  return Admitted{*caller, std::move(turn)};
}

std::optional<Caller> admit(const ServerContext& ctx, const RequestHandle& req, Role needed, TokenIn where) {
  std::string query_token;
  if (where == TokenIn::header_or_query) {
    auto q = query_of(req);
    if (auto it = q.find("token"); it != q.end()) query_token = it->second;
  }
  auto caller = caller_for(ctx.config, header_of(req, "Authorization"), query_token);
  std::string path(req->header().path().substr(0, 200));
  if (!caller) {
    respond(ctx, req,
            problem(401, "Unauthorized",
                    where == TokenIn::header ? "send 'Authorization: Bearer <token>'"
                                             : "send 'Authorization: Bearer <token>' or ?token=<token>",
                    path));
    return std::nullopt;
  }
  if (!caller->may(needed)) {
    respond(ctx, req,
            problem(403, "Forbidden",
                    "token '" + caller->name + "' has role " + to_string(caller->role) + "; this needs " +
                        to_string(needed),
                    path));
    return std::nullopt;
  }
  return caller;
}

std::shared_ptr<void> take_turn(const ServerContext& ctx, const RequestHandle& req) {
  auto turn = ctx.gate->enter();
  if (!turn) respond(ctx, req, stopping_answer(req));
  return turn;
}

std::string client_address(const ServerContext& ctx, const RequestHandle& req) {
  if (ctx.config.trust_proxy) {
    std::string forwarded = header_of(req, "X-Forwarded-For");
    auto first = forwarded.substr(0, forwarded.find(','));
    first.erase(std::remove(first.begin(), first.end(), ' '), first.end());
    if (!first.empty()) return first;
  }
  return req->remote_endpoint().address().to_string();
}

bool over_rate_limit(const ServerContext& ctx, const RequestHandle& req, const Caller& caller) {
  if (!ctx.rate_limiter) return false;
  auto wait = ctx.rate_limiter->take(caller.name + "@" + client_address(ctx, req));
  if (!wait) return false;
  HttpResponse r =
      problem(429, "Too Many Requests",
              "this client has placed too many call requests: at most RATE_LIMIT_BURST at once and "
              "RATE_LIMIT_PER_MIN a minute; retry after " +
                  std::to_string(*wait) + " s",
              std::string(req->header().path().substr(0, 200)));
  r.retry_after_s = *wait;
  respond(ctx, req, r);
  return true;
}

void answer_read(const ServerContext& ctx, const RequestHandle& req, std::function<HttpResponse()> read,
                 Role needed) {
  ctx.metrics->http_request();
  if (!admit(ctx, req, needed)) return;
  const ServerContext* context = &ctx;  // outlives the waiting reads (main's shutdown order)
  once_view_current(ctx, [context, req, read = std::move(read)] { respond(*context, req, read()); });
}

void once_view_current(const ServerContext& ctx, std::function<void()> then) {
  if (!ctx.reads) return then();
  ctx.reads->when_committed(ctx.store->last_seq(), std::move(then));
}

}  // namespace voxlog
