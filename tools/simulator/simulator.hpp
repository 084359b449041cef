// The Twilio simulator: Twilio Studio's REST API on loopback, running a flow definition for real.
//
// Contract: `Simulator::start` binds an HTTP server (its own io thread) and the workers that walk
// executions, and returns once the server accepts connections, or a Status saying why it cannot (port
// taken, invalid flow definition, missing auth token). Each execution walks the flow's widgets with
// simulated delays (scaled by `time_scale`) and sends the flow's make-http-request webhooks signed with
// X-Twilio-Signature exactly as Twilio does; see studio_service.hpp for the API and the admin routes
// that script outcomes and inject faults. voxlogd embeds it when no Twilio credentials are configured;
// tests and `voxlog-sim` use it directly. The destructor stops the server, drops pending steps and waits
// for webhooks in flight (at most Studio's 10-second HTTP timeout). All accessors are thread-safe.
#pragma once

#include "eventstore/status.hpp"
#include "tools/simulator/simulator_options.hpp"

#include <memory>
#include <string>

namespace voxlog::sim {

class Simulator {
 public:
  static Result<std::unique_ptr<Simulator>> start(SimulatorOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  int port() const;
  std::string base_url() const;         // http://127.0.0.1:PORT, the Studio API base
  const std::string& flow_sid() const;  // the flow loaded from SimulatorOptions::flow_definition
  const std::string& account_sid() const;
  // The flow of an account of SimulatorOptions::more_accounts (or of account_sid()); "" for another.
  std::string flow_sid_for(const std::string& account_sid) const;

 private:
  struct Running;
  explicit Simulator(std::unique_ptr<Running> running);
  std::unique_ptr<Running> running_;
};

// Reads and checks a flow definition file such as flow.json.
Result<nlohmann::json> load_flow_definition(const std::string& path);

}  // namespace voxlog::sim
