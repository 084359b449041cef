// `voxlog flow check [FILE]` and `voxlog flow deploy [FILE] [--name NAME] [--draft]`: the flow subcommand.
//
// Contract: run_flow_command() takes the arguments after "flow" and returns the process exit code:
// 0 success; 1 the flow has problems, or Twilio refused it; 2 usage or configuration error (bad arguments,
// unreadable file, missing TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN). FILE defaults to ./flow.json.
// `check` prints "flow.json: ok (N states)" or one "flow.json: <problem>" line per problem.
// `deploy` runs the same check, then POST /v2/Flows/Validate, then updates TWILIO_FLOW_SID when it is set
// (a new revision) or creates a new flow and prints its FW sid. Configuration comes from load_config()
// (process environment, then ./.env); TWILIO_API_BASE points it at the simulator or a fake. The auth token
// is never printed. Results go to `out`, problems and errors to `err`.
//
// Thread-safety: call from the CLI's main thread only (it reads the process environment).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace voxlog {

int run_flow_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace voxlog
