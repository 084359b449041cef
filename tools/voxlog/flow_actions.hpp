// The work behind `voxlog flow check [FILE]` and `voxlog flow deploy [FILE] [--name NAME] [--draft]`.
//
// Contract: each function returns the process exit code (tools/voxlog/args.hpp): 0 success; 1 the flow has
// problems or Twilio refused it; 2 an unreadable file or missing configuration. flow_check() prints
// "<file>: ok (N states)" and "<file>: flow.data variables: a, b, ..." (the Parameters its Liquid reads) on
// `out`, and "<file>: warning: ..." on `err` for each one voxlog never sends (still exit 0); or one
// "<file>: <problem>" line per problem on `err`. flow_deploy() runs
// the same check, then POST /v2/Flows/Validate, then updates TWILIO_FLOW_SID when it is set (a new revision)
// or creates a flow and prints its FW sid. Configuration comes from load_config() (process environment, then
// ./.env); TWILIO_API_BASE points it at the simulator or a fake. The auth token is never printed.
// The command-line parsing lives in flow_command.cpp (voxlog::cli::flow_command), these in the library
// voxlog_flow_command so that tests can drive them in-process.
//
// Thread-safety: call from the CLI's main thread only (flow_deploy reads the process environment).
#pragma once

#include <iosfwd>
#include <string>

namespace voxlog {

struct FlowDeployOptions {
  std::string file = "flow.json";
  std::string friendly_name;  // empty: the definition's description
  bool draft = false;         // publish unless set
  std::string account;        // the Twilio account to deploy to (TWILIO_ACCOUNTS); empty: the default
};

int flow_check(const std::string& file, std::ostream& out, std::ostream& err);
int flow_deploy(const FlowDeployOptions& options, std::ostream& out, std::ostream& err);

}  // namespace voxlog
