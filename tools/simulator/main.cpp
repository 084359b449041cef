// voxlog-sim: the Twilio simulator as a program of its own.
//   voxlog-sim --port N --account-sid AC... --auth-token T --flow flow.json [--time-scale X] [--seed S]
//              [--more-accounts AC...:TOKEN,AC...:TOKEN]
// Each flag may also come from the environment: SIM_PORT, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, SIM_FLOW,
// SIM_TIME_SCALE, SIM_SEED, SIM_MORE_ACCOUNTS. Runs until SIGINT or SIGTERM.
#include "tools/simulator/simulator.hpp"

#include <pthread.h>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>

namespace {

const char kUsage[] =
    "usage: voxlog-sim [--port N] [--bind ADDR] [--account-sid AC...] --auth-token TOKEN [--flow flow.json]\n"
    "                  [--time-scale X] [--seed N] [--more-accounts AC...:TOKEN,...]\n";

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  auto from_env = [&](const char* flag, const char* variable) {
    if (const char* value = std::getenv(variable)) flags[flag] = value;
  };
  from_env("--port", "SIM_PORT");
  from_env("--account-sid", "TWILIO_ACCOUNT_SID");
  from_env("--auth-token", "TWILIO_AUTH_TOKEN");
  from_env("--flow", "SIM_FLOW");
  from_env("--time-scale", "SIM_TIME_SCALE");
  from_env("--seed", "SIM_SEED");
  from_env("--more-accounts", "SIM_MORE_ACCOUNTS");
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (flag.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::cerr << "voxlog-sim: unexpected argument '" << flag << "'\n" << kUsage;
      return 2;
    }
    flags[flag] = argv[++i];
  }
  static const char* const kKnown[] = {"--port", "--bind",       "--account-sid", "--auth-token",
                                       "--flow", "--time-scale", "--seed",        "--more-accounts"};
  for (const auto& [flag, value] : flags) {
    bool known = false;
    for (const char* k : kKnown) known = known || flag == k;
    if (!known) {
      std::cerr << "voxlog-sim: unknown flag " << flag << "\n" << kUsage;
      return 2;
    }
  }

  voxlog::sim::SimulatorOptions options;
  try {
    options.port = flags.count("--port") ? std::stoi(flags["--port"]) : 0;
    options.time_scale = flags.count("--time-scale") ? std::stod(flags["--time-scale"]) : 1.0;
    options.seed = flags.count("--seed") ? std::stoull(flags["--seed"]) : 0;
  } catch (const std::exception&) {
    std::cerr << "voxlog-sim: --port, --time-scale and --seed must be numbers\n";
    return 2;
  }
  if (flags.count("--bind")) options.bind_address = flags["--bind"];
  if (flags.count("--account-sid")) options.account_sid = flags["--account-sid"];
  options.auth_token = flags["--auth-token"];
  std::stringstream more(flags["--more-accounts"]);
  for (std::string entry; std::getline(more, entry, ',');) {
    auto colon = entry.find(':');
    if (entry.empty()) continue;
    if (colon == std::string::npos) {
      std::cerr << "voxlog-sim: --more-accounts takes AC...:TOKEN entries, comma-separated\n";
      return 2;
    }
    options.more_accounts.push_back({entry.substr(0, colon), entry.substr(colon + 1), ""});
  }
  auto definition = voxlog::sim::load_flow_definition(flags.count("--flow") ? flags["--flow"] : "flow.json");
  if (!definition) {
    std::cerr << "voxlog-sim: " << definition.status().message() << "\n";
    return 1;
  }
  options.flow_definition = *definition;

  // Block the signals before any thread starts so that only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto simulator = voxlog::sim::Simulator::start(options);
  if (!simulator) {
    std::cerr << "voxlog-sim: " << simulator.status().message() << "\n";
    return 1;
  }
  std::cout << "voxlog-sim listening on " << (*simulator)->base_url() << " (flow " << (*simulator)->flow_sid()
            << ")" << std::endl;
  for (const auto& a : options.more_accounts)
    std::cout << "voxlog-sim: account " << a.account_sid << " has flow "
              << (*simulator)->flow_sid_for(a.account_sid) << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  std::cout << "voxlog-sim: stopping" << std::endl;
  return 0;
}
