// voxlogd: the voxlog server. All the wiring is here, in start-up and shutdown order.
#include <csignal>
#include <cstdlib>
#include <iostream>

#include <caf/all.hpp>

#include "actors/broadcaster.hpp"
#include "actors/call_actor.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/projector.hpp"
#include "eventstore/store.hpp"
#include "http/legacy_routes.hpp"
#include "http/server.hpp"
#include "http/socketio.hpp"
#include "projections/calls_view.hpp"
#include "tools/config/config.hpp"

namespace {

int fail(const std::string& what) {
  std::cerr << "voxlogd: " << what << '\n';
  return 1;
}

// CAF's scheduler and RESTinio's io thread inherit this mask; main alone waits for the signals (G14).
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace voxlog;
  std::string env_file = argc > 1 ? argv[1] : ".env";
  auto config = load_config(env_file);
  if (!config) return fail(config.status().to_string());
  sigset_t signals = block_shutdown_signals();

  auto store = EventStore::open(config->data_dir + "/log");
  if (!store) return fail(store.status().to_string());
  auto view = CallsView::open(config->data_dir + "/views");
  if (!view) return fail(view.status().to_string());
  Metrics metrics;
  (*store)->on_commit([&metrics](const CommitInfo& c) { metrics.commit(c.events, c.seconds); });

  caf::actor_system_config caf_config;
  caf_config.set("logger.console", caf::atom("none"));
  caf::actor_system system{caf_config};

  caf::actor broadcaster = spawn_broadcaster(system, **store, **view, metrics, (*view)->checkpoint());
  // The projector catches the view up before anything is served, so reads and aliases are current.
  Projector projector(**store, **view, broadcaster);
  if (Status s = projector.start(); !s) return fail(s.to_string());

  CallActorSettings call_settings;
  call_settings.store = store->get();
  call_settings.metrics = &metrics;
  caf::actor router = spawn_router(system, call_settings, aliases_from(**view));

  ServerContext http_context;
  http_context.config = *config;
  http_context.store = store->get();
  http_context.view = view->get();
  http_context.metrics = &metrics;
  http_context.router = router;
  http_context.broadcaster = broadcaster;
  const char* static_dir = std::getenv("STATIC_DIR");
  http_context.static_dir = static_dir ? static_dir : VOXLOG_STATIC_DIR;
  // The Node app's clients: Socket.IO at /socket.io/ and its dashboard endpoints (before /api/calls/:id).
  auto socket_io_options = SocketIoOptions::from_environment();
  if (!socket_io_options) return fail(socket_io_options.status().to_string());
  auto socket_io = SocketIoServer::start(system, http_context, *socket_io_options);
  http_context.extra_routes.push_back(legacy_api_routes(http_context));
  http_context.extra_routes.push_back(socket_io->routes());
  auto server = HttpServer::start(http_context);
  if (!server) return fail(server.status().to_string());

  std::cout << "voxlogd: " << describe(*config) << '\n';
  if (config->twilio_auth_token.empty())
    std::cout << "voxlogd: WARNING: TWILIO_AUTH_TOKEN is not set: webhooks are NOT verified (local simulation only)\n";
  std::cout << "voxlogd: log at seq " << (*store)->last_seq() << ", " << (*view)->count() << " calls\n";
  std::cout << "voxlogd listening on http://" << config->bind_address << ":" << (*server)->port() << std::endl;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cout << "voxlogd: signal " << signal << ", shutting down" << std::endl;

  // Shutdown order (stack-notes G13): subscribers first, then the server, then the actors, then the log
  // (its writer may still answer appends: the actor system must outlive it).
  {
    caf::scoped_actor self{system};
    self->request(broadcaster, std::chrono::seconds(5), close_atom::value).receive([](bool) {}, [](caf::error&) {});
    socket_io->stop();
    (*server)->stop();
    projector.stop();
    self->send_exit(router, caf::exit_reason::user_shutdown);
    self->send_exit(broadcaster, caf::exit_reason::user_shutdown);
  }
  system.await_all_actors_done();
  store->reset();
  std::cout << "voxlogd: stopped" << std::endl;
  return 0;
}
