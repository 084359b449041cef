// voxlog: the operator's command line. `voxlog help` lists the subcommands.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "tools/voxlog/args.hpp"
#include "tools/voxlog/commands.hpp"

namespace {

using voxlog::cli::Args;

struct Command {
  const char* name;
  int (*run)(const Args&);
  const char* usage;
};

// One row per subcommand.
const Command kCommands[] = {
    {"events", voxlog::cli::events_command,
     "events [--after SEQ] [--stream S] [--type T]... [--limit N]   print the log as JSON lines"},
    {"verify", voxlog::cli::verify_command,
     "verify                                                        check the log's invariants"},
    {"stats", voxlog::cli::stats_command,
     "stats [--json]                                                counts and sizes"},
    {"replay", voxlog::cli::replay_command,
     "replay [--check] [--out DIR]                                 rebuild the projections from the log"},
    {"flow", voxlog::cli::flow_command,
     "flow check|deploy [FILE] [--name N] [--draft] [--account A]   check flow.json, or deploy it to Studio"},
    {"migrate", voxlog::cli::migrate_command,
     "migrate [--from SRC] --to DIR|URL [--batch N]                 copy the log into an empty DIR or URL"},
};

void print_usage(std::ostream& out) {
  out << "usage: voxlog [--data DIR] <command> [options]\n"
         "  DIR defaults to $DATA_DIR, else ./data; the event store is DIR/log, or the PostgreSQL log that\n"
         "  $LOG_URL names (postgresql://...).\n\ncommands:\n";
  for (const Command& c : kCommands) out << "  " << c.usage << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  Args args;
  const char* env_dir = std::getenv("DATA_DIR");
  args.data_dir = env_dir && *env_dir ? env_dir : "./data";
  const char* env_log = std::getenv("LOG_URL");  // as voxlogd's Config reads it; checked when the log opens
  args.log_url = env_log ? env_log : "";
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--data") {
      if (i + 1 >= argc) {
        std::cerr << "voxlog: --data needs a directory\n";
        return voxlog::cli::kExitUsage;
      }
      args.data_dir = argv[++i];
    } else if (word.rfind("--data=", 0) == 0) {
      args.data_dir = word.substr(7);
    } else if (args.command.empty() && word.rfind("--", 0) != 0) {
      args.command = word;
    } else if (args.command.empty() && (word == "--help" || word == "-h")) {
      args.command = "help";
    } else {
      words.push_back(std::move(word));
    }
  }
  if (args.command.empty() || args.command == "help") {
    print_usage(args.command.empty() ? std::cerr : std::cout);
    return args.command.empty() ? voxlog::cli::kExitUsage : voxlog::cli::kExitOk;
  }
  if (args.data_dir.empty()) {
    std::cerr << "voxlog: the data directory is empty\n";
    return voxlog::cli::kExitUsage;
  }
  args.words = std::move(words);
  for (const Command& c : kCommands) {
    if (args.command == c.name) return c.run(args);
  }
  std::cerr << "voxlog: unknown command '" << args.command << "'\n";
  print_usage(std::cerr);
  return voxlog::cli::kExitUsage;
}
