// bare_server PORT: the baseline of the server benchmarks (tools/bench/server_bench.sh). A RESTinio
// server built like voxlogd's edge (http/restinio_fwd.hpp traits: express router, a strand per
// connection; one io thread) doing none of voxlogd's work: no signature check, no parsing, no actors,
// no log. Routes:
//   POST /api/calls/webhooks/status  answers 200 "ok"; before that it sends the raw body as a text frame
//                                    to every /ws subscriber (the fan-out baseline: nothing in between)
//   GET  /ws                         WebSocket upgrade; the client's frames are ignored (pings answered)
// It stops on SIGINT or SIGTERM. Everything runs on the one io thread, so the subscriber table needs no
// lock.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "http/restinio_fwd.hpp"

namespace {

namespace rws = voxlog::http::rws;
using voxlog::http::RequestHandle;
using voxlog::http::Traits;

// Dispatched like voxlogd's (http/server.cpp): the webhook by exact path, the rest by the express router.
restinio::default_request_handler_t make_handler(std::map<std::uint64_t, rws::ws_handle_t>& subscribers) {
  std::shared_ptr<voxlog::http::Router> router = std::make_unique<voxlog::http::Router>();
  router->http_get("/ws", [&subscribers](const RequestHandle& req, auto) {
    if (restinio::http_connection_header_t::upgrade != req->header().connection())
      return restinio::request_rejected();
    auto ws = rws::upgrade<Traits>(*req, rws::activation_t::immediate,
                                   [&subscribers](rws::ws_handle_t wsh, rws::message_handle_t m) {
                                     if (m->opcode() == rws::opcode_t::ping_frame) {
                                       auto pong = *m;
                                       pong.set_opcode(rws::opcode_t::pong_frame);
                                       wsh->send_message(pong);
                                     } else if (m->opcode() == rws::opcode_t::connection_close_frame) {
                                       subscribers.erase(wsh->connection_id());
                                     }
                                   });
    subscribers.emplace(ws->connection_id(), std::move(ws));
    return restinio::request_accepted();
  });
  return [router, &subscribers](RequestHandle req) {
    if (req->header().method() != restinio::http_method_post() ||
        req->header().path() != "/api/calls/webhooks/status")
      return (*router)(std::move(req));
    for (auto& [id, ws] : subscribers)
      ws->send_message(rws::final_frame, rws::opcode_t::text_frame, restinio::writable_item_t{req->body()});
    req->create_response()
        .append_header(restinio::http_field::content_type, "text/plain")
        .set_body("ok")
        .done();
    return restinio::request_accepted();
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bare_server PORT\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  if (port <= 0 || port > 65535) {
    std::fprintf(stderr, "bare_server: PORT must be 1-65535\n");
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the io thread inherits it; main waits below

  std::map<std::uint64_t, rws::ws_handle_t> subscribers;
  auto server =
      restinio::run_async<Traits>(restinio::own_io_context(),
                                  restinio::server_settings_t<Traits>{}
                                      .address("127.0.0.1")
                                      .port(static_cast<std::uint16_t>(port))
                                      .request_handler(make_handler(subscribers))
                                      .socket_options_setter([](auto& options) {
                                        options.set_option(asio::ip::tcp::no_delay{true});  // as voxlogd
                                      }),
                                  1);
  std::printf("bare_server listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  server->stop();
  server->wait();
  // The WebSocket handles would dispatch their close onto the io_context while it is being destroyed
  // (releasing a request touches its io_context); a benchmark baseline has nothing to flush, so it leaves
  // without destructors.
  std::fflush(stdout);
  std::_Exit(0);
}
