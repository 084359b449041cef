// voxlogd: the voxlog server. All the wiring is here, in start-up and shutdown order.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include <sys/resource.h>

#include <caf/all.hpp>

#include "actors/broadcaster.hpp"
#include "actors/call_directory.hpp"
#include "actors/campaign/campaigns.hpp"
#include "actors/dialer.hpp"
#include "actors/metrics/metrics.hpp"
#include "actors/projection/calls_projection.hpp"
#include "actors/projection/read_barrier.hpp"
#include "eventstore/store.hpp"
#include "http/compat/socketio.hpp"
#include "http/config/config.hpp"
#include "http/live_socket.hpp"
#include "http/server.hpp"
#include "http/thread_class.hpp"
#include "projections/calls_view.hpp"
#include "projections/event_types.hpp"
#include "tools/simulator/simulator.hpp"

// jemalloc's options (it reads this symbol at start): a background thread returns freed memory to the system
// after its decay time, even while the server is idle. Without it, pages freed after a big import (300 MiB
// for 100,000 rows) stayed resident until later allocations happened to purge them.
extern "C" {
const char* malloc_conf = "background_thread:true";
}

namespace {

int fail(const std::string& what) {
  std::cerr << "voxlogd: " << what << '\n';
  return 1;
}

// A failure once the actor system runs: returning would wait in its destructor for actors that nothing
// will stop (and SIGTERM is blocked for sigwait), so a supervisor would never see the exit. Nothing has
// been acknowledged yet and the log is crash-safe: leave at once, like a crash, with the reason.
[[noreturn]] void fail_started(const std::string& what) {
  std::cerr << "voxlogd: " << what << std::endl;
  std::_Exit(1);
}

std::string random_hex(std::size_t n) {
  static const char* hex = "0123456789abcdef";
  std::random_device rd;
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += hex[rd() & 0xf];
  return s;
}

// With no Twilio credentials voxlogd runs the built-in simulator: it executes flow.json like Studio and
// calls our webhooks back, playing every configured account. Its account SIDs are made up for this run and
// never leave the process; each account's token is the configured one (so that tests can sign like Twilio),
// else made up too.
struct SimulatedAccounts {
  std::unique_ptr<voxlog::sim::Simulator> simulator;
  std::vector<voxlog::sim::SimulatedAccount> accounts;  // in the order of Config::twilio_accounts
};

voxlog::Result<SimulatedAccounts> start_simulator(const voxlog::Config& config) {
  auto flow =
      voxlog::sim::load_flow_definition(config.flow_file.empty() ? VOXLOG_FLOW_FILE : config.flow_file);
  if (!flow) return flow.status();
  SimulatedAccounts out;
  for (const voxlog::TwilioAccount& a : config.twilio_accounts)
    out.accounts.push_back({"AC" + random_hex(32), a.auth_token.empty() ? random_hex(32) : a.auth_token, ""});
  voxlog::sim::SimulatorOptions options;
  options.account_sid = out.accounts.front().account_sid;
  options.auth_token = out.accounts.front().auth_token;
  options.more_accounts.assign(out.accounts.begin() + 1, out.accounts.end());
  options.flow_definition = std::move(*flow);
  options.time_scale = config.sim_time_scale;
  auto started = voxlog::sim::Simulator::start(std::move(options));
  if (!started) return started.status();
  out.simulator = std::move(*started);
  return out;
}

// The accounts calls go out through (the dialer's) and those whose tokens sign webhooks (the HTTP edge's):
// Twilio's as configured, or the simulator's stand-ins.
void wire_accounts(const voxlog::Config& config, const SimulatedAccounts* simulated,
                   voxlog::DialerSettings& dialer, std::vector<voxlog::WebhookAccount>& webhooks) {
  for (std::size_t i = 0; i < config.twilio_accounts.size(); ++i) {
    const voxlog::TwilioAccount& a = config.twilio_accounts[i];
    voxlog::DialAccount d;
    d.name = a.name;
    d.region = a.region;
    if (simulated) {
      const voxlog::sim::SimulatedAccount& stand_in = simulated->accounts[i];
      d.client.base_url = simulated->simulator->base_url();
      d.client.account_sid = stand_in.account_sid;
      d.client.auth_token = stand_in.auth_token;
      d.client.flow_sid = simulated->simulator->flow_sid_for(stand_in.account_sid);
      d.from = a.phone_number.empty() ? "+15005550006" : a.phone_number;  // Twilio's test number
    } else {
      d.client.base_url = config.twilio_api_base;
      d.client.account_sid = a.account_sid;
      d.client.auth_token = a.auth_token;
      d.client.flow_sid = a.flow_sid;
      d.from = a.phone_number;
    }
    webhooks.push_back({d.name, d.region, d.client.account_sid, d.client.auth_token});
    dialer.accounts.push_back(std::move(d));
  }
}

// Every connection is a file descriptor: take the hard limit (often 1,024 soft against 500k+ hard), so
// that MAX_CONNECTIONS, not the descriptor table, is what limits them.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// CAF's scheduler and RESTinio's io thread inherit this mask; main alone waits for the signals (with
// sigwait: a handler could run on any thread, in the middle of any lock).
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
  if (Status exposed = check_exposure(*config); !exposed) return fail(exposed.message());
  raise_open_file_limit();
  sigset_t signals = block_shutdown_signals();
  // Before any thread starts: every thread inherits it, the live subscribers' io threads opt out.
  become_answering_thread();

  StoreOptions store_options;
  store_options.max_map_size = (config->log_map_bytes + 4095) / 4096 * 4096;  // LMDB maps whole pages
  store_options.initial_map_size = std::min(store_options.initial_map_size, store_options.max_map_size);
  // LOG_URL names the log (PostgreSQL); without it the log is LMDB in DATA_DIR, which keeps the views either
  // way.
  auto store = EventStore::open_url(config->log_url, config->data_dir + "/log", store_options);
  if (!store) return fail(store.status().to_string());
  // With a PostgreSQL log nothing else has created DATA_DIR, which still holds the views.
  if (std::error_code made; !std::filesystem::create_directories(config->data_dir, made) && made)
    return fail("cannot create DATA_DIR " + config->data_dir + ": " + made.message());
  auto view = CallsView::open(config->data_dir + "/views");
  if (!view) return fail(view.status().to_string());
  Metrics metrics;
  // The live subscribers' connections (/ws, Socket.IO over WebSocket) on io threads of their own; it
  // outlives every holder of one (the actors, the HTTP server's sessions), stopped explicitly below.
  LiveLoops live_loops(config->live_io_threads);
  (*store)->on_commit([&metrics](const CommitInfo& c) { metrics.commit(c.events, c.seconds); });

  caf::actor_system_config caf_config;
  caf_config.set("logger.console", caf::atom("none"));
  // One worker per core: CAF's default of at least four workers polls (sleep, wake, look) more threads
  // than there are cores to run them, and under load they take turns with the io and log threads.
  caf_config.set("scheduler.max-threads",
                 static_cast<std::int64_t>(std::max(2u, std::thread::hardware_concurrency())));
  // An idle worker spins briefly, then sleeps on its condition variable until work is enqueued. CAF's
  // middle stage (500 sleeps of 50 us between polls) was the server's most frequent system call under
  // load, and it delays work that arrives mid-sleep. Without it, the ingestion p99 was lower in six of
  // six alternating runs (11-15 ms against 15-53 ms) and throughput within the noise or higher.
  caf_config.set("work-stealing.moderate-poll-attempts", std::int64_t{0});
  caf::actor_system system{caf_config};

  std::chrono::milliseconds heartbeat{config->ws_ping_ms};  // how often live subscribers must show life
  broadcaster_actor broadcaster =
      spawn_broadcaster(system, **store, **view, metrics, (*view)->checkpoint(), heartbeat);
  // The calls view's projection catches the view up before anything is served, so reads and aliases are
  // current. Calls of campaigns go to their campaign's actor, once there are campaigns (below).
  std::atomic<Campaigns*> campaign_router{nullptr};
  ProjectionHandle calls_projection = spawn_projection(
      system, **store,
      std::make_unique<CallsProjection>(
          **view, broadcaster,
          [&campaign_router](const CallRow& row) {
            if (Campaigns* c = campaign_router.load()) c->route_call(row);
          },
          [&campaign_router](const Event& e) {
            if (Campaigns* c = campaign_router.load())
              c->campaign_written(e.stream.substr(std::string(stream_prefix::campaign).size()), e.version,
                                  e.type == event_type::campaign_created);
          }));
  if (Status s = start_projection(system, calls_projection); !s) fail_started(s.to_string());
  ReadBarrier view_reads(system, calls_projection);

  CallActorSettings call_settings;
  call_settings.store = store->get();
  call_settings.metrics = &metrics;
  call_settings.idle_after_end = std::chrono::milliseconds(config->call_idle_after_end_ms);
  CallsView* calls_view = view->get();
  CallDirectory calls(system, call_settings,
                      [calls_view](const std::string& sid) { return calls_view->stream_of_sid(sid); });

  init_http_client();
  SimulatedAccounts simulated;
  DialerSettings dialer_settings;
  dialer_settings.store = store->get();
  dialer_settings.view = view->get();
  dialer_settings.default_region = config->default_region;
  dialer_settings.workers = static_cast<int>(config->dial_workers);
  if (config->simulate()) {
    auto started = start_simulator(*config);
    if (!started) fail_started("cannot start the Twilio simulator: " + started.status().to_string());
    simulated = std::move(*started);
  }
  std::unique_ptr<sim::Simulator>& simulator = simulated.simulator;
  std::vector<WebhookAccount> webhook_accounts;
  wire_accounts(*config, simulator ? &simulated : nullptr, dialer_settings, webhook_accounts);

  ServerContext http_context;
  http_context.config = *config;
  http_context.store = store->get();
  http_context.view = view->get();
  http_context.reads = &view_reads;
  http_context.metrics = &metrics;
  http_context.calls = &calls;
  http_context.broadcaster = broadcaster;
  http_context.webhook_accounts = std::move(webhook_accounts);
  http_context.rate_limiter =
      std::make_shared<RateLimiter>(config->rate_limit_per_min, config->rate_limit_burst);
  http_context.live_loops = &live_loops;
  http_context.static_dir = config->static_dir.empty() ? VOXLOG_STATIC_DIR : config->static_dir;
  dialer_actor dialer = spawn_dialer(system, dialer_settings);
  http_context.dialer = dialer;
  CampaignActorSettings campaign_settings;
  campaign_settings.store = store->get();
  campaign_settings.view = view->get();
  campaign_settings.dialer = dialer;
  campaign_settings.clock = CampaignClock(config->clock_scale, config->clock_start_ms,
                                          config->clock_anchor_ms ? config->clock_anchor_ms : now_ms());
  campaign_settings.check_interval = std::chrono::milliseconds(config->campaign_check_ms);
  Campaigns campaigns(system, campaign_settings);
  campaign_router = &campaigns;
  http_context.campaigns = &campaigns;
  if (simulator) http_context.simulator_url = simulator->base_url();
  // The Node app's clients: Socket.IO at /socket.io/ and its dashboard endpoints (before /api/calls/:id).
  auto socket_io = SocketIoServer::start(system, http_context, SocketIoOptions::from(*config));
  http_context.socket_io = socket_io.get();
  auto server = HttpServer::start(http_context);
  if (!server) fail_started(server.status().to_string());

  // The flow calls us back here; with PORT=0 it is known only now.
  std::string public_url = !config->public_url.empty()
                               ? config->public_url
                               : "http://127.0.0.1:" + std::to_string((*server)->port());
  caf::anon_send(dialer, public_url_atom::value, public_url);
  campaigns.start();  // the campaigns the log left running go on

  std::cout << "voxlogd: " << describe(*config) << '\n';
  if (simulator)
    std::cout << "voxlogd: Twilio simulator at " << simulator->base_url() << " (no credentials set)\n";
  if (!config->tokens_required())
    std::cout << "voxlogd: no API token set: serving this machine only (" << config->bind_address
              << "); set API_TOKEN (or API_TOKENS) to serve others\n";
  if (!config->verify_webhooks)
    std::cout << "voxlogd: WARNING: VERIFY_WEBHOOKS=off: webhooks are NOT verified; anything that reaches "
              << config->bind_address << " can forge a call's status and key presses\n";
  std::cout << "voxlogd: log " << (*store)->describe() << " at seq " << (*store)->last_seq() << ", "
            << (*view)->count() << " calls\n";
  std::cout << "voxlogd listening on http://" << config->bind_address << ":" << (*server)->port()
            << std::endl;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cout << "voxlogd: signal " << signal << ", shutting down" << std::endl;

  // Shutdown order, each step at its cause. The HTTP server runs to the very end: answers come from the
  // actors' and the log's threads, and every request handle touches its io_context when released.
  // 1. Take no new request; answer the webhooks, starts and campaign controls under way.
  if (!(*server)->drain(std::chrono::seconds(10)))
    std::cout << "voxlogd: requests still under way after 10 s; stopping anyway" << std::endl;
  // 2. Stop what appends: the campaigns, the dialer (once the calls it is placing are recorded), then the
  //    call actors.
  campaigns.stop_all();
  {
    caf::scoped_actor self{system};
    self->send_exit(dialer, caf::exit_reason::user_shutdown);
    self->wait_for(dialer);
  }
  calls.stop_all();
  simulator.reset();  // nothing places calls any more
  // 3. The views take in the whole log; subscribers get its last events, then are closed.
  stop_projection(system, calls_projection);
  view_reads.stop();
  {
    caf::scoped_actor self{system};
    self->request(broadcaster, std::chrono::seconds(5), close_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
    socket_io->stop();
    self->send_exit(broadcaster, caf::exit_reason::user_shutdown);
  }
  system.await_all_actors_done();
  live_loops.stop(std::chrono::seconds(1));  // the close frames go out; the connections' slots are freed
  // 4. The log (its threads answer appends into the actor system, which outlives it), then HTTP.
  store->reset();
  (*server)->stop();
  server->reset();
  std::cout << "voxlogd: stopped" << std::endl;
  return 0;
}
