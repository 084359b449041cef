#include "tools/voxlog/flow_actions.hpp"

#include <fstream>
#include <optional>
#include <ostream>

#include <nlohmann/json.hpp>

#include "actors/twilio/twilio_client.hpp"
#include "http/config/config.hpp"
#include "http/config/twilio_accounts.hpp"
#include "tools/flow/flow_check.hpp"
#include "tools/voxlog/args.hpp"

namespace voxlog {
namespace {

using json = nlohmann::json;

constexpr int kOk = cli::kExitOk;
constexpr int kRejected = cli::kExitFailed;
constexpr int kUsage = cli::kExitUsage;

std::optional<json> read_flow(const std::string& file, std::ostream& err) {
  std::ifstream in(file);
  if (!in) {
    err << file << ": cannot open\n";
    return std::nullopt;
  }
  json flow = json::parse(in, nullptr, false);
  if (flow.is_discarded()) {
    err << file << ": not valid JSON\n";
    return std::nullopt;
  }
  return flow;
}

// Prints the verdict; true when the flow has no problems.
bool report_check(const std::string& file, const json& flow, std::ostream& out, std::ostream& err) {
  auto problems = check_flow(flow);
  for (const auto& problem : problems) err << file << ": " << problem << "\n";
  if (!problems.empty()) return false;
  out << file << ": ok (" << flow["states"].size() << " states)\n";
  std::string names;
  for (const auto& [name, states] : flow_data_reads(flow)) names += (names.empty() ? "" : ", ") + name;
  out << file << ": flow.data variables: " << (names.empty() ? "(none)" : names) << "\n";
  for (const auto& warning : flow_data_warnings(flow)) err << file << ": warning: " << warning << "\n";
  return true;
}

void report_api_error(const char* step, const ApiError& error, std::ostream& err) {
  err << "voxlog flow deploy: " << step << " failed: " << error.status.to_string() << "\n";
}

int deploy(const FlowDeployOptions& args, const json& flow, std::ostream& out, std::ostream& err) {
  auto config = load_config();
  if (!config) {
    err << "voxlog flow deploy: " << config.status().to_string() << "\n";
    return kUsage;
  }
  if (config->simulate()) {
    err << "voxlog flow deploy: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (environment or .env)\n";
    return kUsage;
  }
  auto account = config->choose_twilio_account(args.account, "");
  if (!account) {
    err << "voxlog flow deploy: --account: " << account.status().message() << "\n";
    return kUsage;
  }
  const TwilioAccount& to = **account;
  // The default account's variables are TWILIO_...; a named account's TWILIO_<NAME>_...
  const std::string flow_variable =
      to.name == "default" ? "TWILIO_FLOW_SID" : account_variable(to.name, "FLOW_SID");
  ClientOptions options;
  options.base_url = config->twilio_api_base;
  options.account_sid = to.account_sid;
  options.auth_token = to.auth_token;
  StudioClient client(options);

  FlowRequest request;
  request.friendly_name =
      !args.friendly_name.empty() ? args.friendly_name : flow.value("description", std::string());
  if (request.friendly_name.empty()) request.friendly_name = "voxlog appointment reminders";
  request.status = args.draft ? "draft" : "published";
  request.definition = flow;
  request.commit_message = "voxlog flow deploy " + args.file;

  auto validated = client.validate_flow(request);
  if (!validated) {
    report_api_error("validation", validated.error(), err);
    return kRejected;
  }
  out << args.file << ": Twilio validated the definition\n";
  const bool update = !to.flow_sid.empty();
  auto deployed = update ? client.update_flow(to.flow_sid, request) : client.create_flow(request);
  if (!deployed) {
    report_api_error(update ? "update" : "create", deployed.error(), err);
    return kRejected;
  }
  out << (update ? "updated " : "created ") << deployed->sid << " (revision " << deployed->revision << ", "
      << deployed->status << ")\n";
  if (!update)
    out << "set " << flow_variable << "=" << deployed->sid << " so that voxlogd starts executions on it\n";
  for (const auto& warning : deployed->warnings) out << "warning: " << warning.dump() << "\n";
  return kOk;
}

}  // namespace

int flow_check(const std::string& file, std::ostream& out, std::ostream& err) {
  auto flow = read_flow(file, err);
  if (!flow) return kUsage;
  return report_check(file, *flow, out, err) ? kOk : kRejected;
}

int flow_deploy(const FlowDeployOptions& options, std::ostream& out, std::ostream& err) {
  auto flow = read_flow(options.file, err);
  if (!flow) return kUsage;
  if (!report_check(options.file, *flow, out, err)) return kRejected;
  return deploy(options, *flow, out, err);
}

}  // namespace voxlog
