// `voxlog flow check [FILE]` and `voxlog flow deploy [FILE] [--name NAME] [--draft] [--account NAME]` (see
// flow_actions.hpp).
#include <iostream>

#include "tools/voxlog/commands.hpp"
#include "tools/voxlog/flow_actions.hpp"

namespace voxlog::cli {

int flow_command(const Args& args) {
  const std::vector<std::string>& words = args.words;
  if (words.empty() || (words[0] != "check" && words[0] != "deploy")) {
    return report_failure(args, invalid_argument("expected 'flow check [FILE]' or 'flow deploy [FILE]'"),
                          kExitUsage);
  }
  FlowDeployOptions options;
  std::size_t next = 1;
  if (next < words.size() && words[next].rfind("--", 0) != 0) options.file = words[next++];
  std::vector<OptionSpec> specs;
  if (words[0] == "deploy") specs = {{"name"}, {"draft", false}, {"account"}};
  auto parsed = parse_options(std::vector<std::string>(words.begin() + next, words.end()), specs);
  if (!parsed) return report_failure(args, parsed.status(), kExitUsage);
  if (words[0] == "check") return flow_check(options.file, std::cout, std::cerr);
  options.friendly_name = parsed->get("name");
  options.draft = parsed->has("draft");
  options.account = parsed->get("account");
  return flow_deploy(options, std::cout, std::cerr);
}

}  // namespace voxlog::cli
