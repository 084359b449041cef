// Reads: the calls view and the log (viewer), the live feed, health and metrics, the dashboard's files.
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/campaign/campaigns.hpp"
#include "http/read_api.hpp"
#include "http/respond.hpp"
#include "http/routes/routes.hpp"
#include "http/websocket.hpp"

namespace voxlog::routes {
namespace {

using http::RequestHandle;
using http::RouteParams;

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

// The log's state for /healthz: its last write's, or, before any write has failed, a full disk under it (a
// start on a full disk is degraded at once, not at the first refused write).
Status log_health(const ServerContext& ctx) {
  Status last = ctx.store->last_write_status();
  if (!last) return last;
  struct statvfs disk {};
  // Blocks this process may use: root may also take the file system's reserve.
  if (::statvfs(ctx.config.data_dir.c_str(), &disk) == 0 &&
      (::geteuid() == 0 ? disk.f_bfree : disk.f_bavail) == 0)
    return resource_exhausted("the disk holding " + ctx.config.data_dir + " is full");
  return last;
}

HttpResponse static_file(const ServerContext& ctx, std::string path) {
  if (path.empty() || path == "/") path = "/index.html";
  if (path.find("..") != std::string::npos) return problem(404, "Not Found", "no such file");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(ctx.static_dir + path, ec))  // a directory opens as an empty file
    return problem(404, "Not Found", "no route or file for " + path.substr(0, 200));
  std::ifstream in(ctx.static_dir + path, std::ios::binary);
  if (!in) return problem(404, "Not Found", "no route or file for " + path.substr(0, 200));
  std::ostringstream body;
  body << in.rdbuf();
  return {200, content_type_for(path), body.str()};
}

}  // namespace

Handler health(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, auto) {
    // "degraded" while the log takes no write (full, or the disk failing): reads still work, appends get
    // 503. Without a credential a prober learns that word, and nothing else.
    Status log = log_health(ctx);
    const char* status = log ? "ok" : "degraded";
    if (!caller_for(ctx.config, header_of(req, "Authorization"))) {
      respond(ctx, req, json_response(200, {{"status", status}}));
      return restinio::request_accepted();
    }
    nlohmann::json body = {{"status", status},
                           {"log", log ? nlohmann::json("ok") : nlohmann::json(log.message())},
                           {"lastSeq", ctx.store->last_seq()},
                           {"viewCheckpoint", ctx.view->checkpoint()},
                           {"simulator", ctx.config.simulate()},
                           {"simulatorUrl", ctx.simulator_url.empty() ? nlohmann::json(nullptr)
                                                                      : nlohmann::json(ctx.simulator_url)},
                           {"subscribers", ctx.metrics->subscribers()},
                           {"callActors", ctx.metrics->call_actors()}};
    // Which node of a cluster runs the campaigns (always this one on an LMDB log), and how many.
    if (ctx.campaigns)
      body["campaigns"] = {{"leader", ctx.campaigns->leading()}, {"running", ctx.campaigns->running()}};
    respond(ctx, req, json_response(200, body));
    return restinio::request_accepted();
  };
}

Handler metrics(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, auto) {
    if (!admit(ctx, req, Role::metrics)) return restinio::request_accepted();
    std::string extra =
        "# HELP voxlog_log_last_seq Highest committed seq.\n# TYPE voxlog_log_last_seq gauge\n"
        "voxlog_log_last_seq " +
        std::to_string(ctx.store->last_seq()) + "\n";
    respond(ctx, req, {200, "text/plain; version=0.0.4; charset=utf-8", ctx.metrics->render(extra)});
    return restinio::request_accepted();
  };
}

Handler list_calls(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle& req, const RouteParams&) {
    return voxlog::list_calls(*ctx.view, query_of(req));
  });
}

Handler get_call(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle&, const RouteParams& p) {
    return voxlog::get_call(*ctx.view, std::string(p["id"]));
  });
}

Handler call_events(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle&, const RouteParams& p) {
    return voxlog::call_events(*ctx.view, *ctx.store, std::string(p["id"]));
  });
}

Handler global_events(const ServerContext& ctx) {
  return read_route(ctx, [&ctx](const RequestHandle& req, const RouteParams&) {
    return voxlog::global_events(*ctx.store, query_of(req));
  });
}

Handler live_feed(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, auto) {
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
    return upgrade_to_websocket(req, ctx.broadcaster, after, *ctx.live_loops, live_limits(ctx.config));
  };
}

Handler static_files(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req, const RouteParams& p) {
    respond(ctx, req, static_file(ctx, "/" + std::string(p["path"])));
    return restinio::request_accepted();
  };
}

Handler preflight(const ServerContext& ctx, std::string methods) {
  return [&ctx, methods](const RequestHandle& req, auto) {
    auto resp = req->create_response(restinio::status_no_content());
    add_cors(ctx, req, resp);
    resp.append_header("Access-Control-Allow-Methods", methods);
    resp.append_header("Access-Control-Allow-Headers", "Content-Type, Authorization");
    resp.done();
    return restinio::request_accepted();
  };
}

restinio::router::non_matched_request_handler_t not_found(const ServerContext& ctx) {
  return [&ctx](const RequestHandle& req) {
    std::string path = std::string(req->header().path()).substr(0, 200);
    respond(ctx, req, problem(404, "Not Found", "no route for " + path, path));
    return restinio::request_accepted();
  };
}

}  // namespace voxlog::routes
