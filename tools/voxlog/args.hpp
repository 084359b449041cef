// Args: the command line of one `voxlog` subcommand, the one way subcommands read their options, and
// the one way they open the event store.
//
// Contract: main.cpp resolves the data directory (`--data DIR`, else $DATA_DIR, else ./data) and hands
// each subcommand the words after its name. A subcommand declares its options as OptionSpecs and calls
// parse_options(); anything unknown, a missing value or a repeated single-valued option is a usage error
// (exit 2) whose message names the offending word. `--name value` and `--name=value` are both accepted.
// Output conventions: results on stdout, errors on stderr as "voxlog <command>: <status>".
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eventstore/status.hpp"
#include "eventstore/store.hpp"

namespace voxlog::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and found a problem (or could not run)
inline constexpr int kExitUsage = 2;   // the command line itself is wrong

struct Args {
  std::string command;             // e.g. "events"
  std::string data_dir;            // resolved; never empty
  std::string log_url;             // LOG_URL: empty, the LMDB log in log_dir(); else the PostgreSQL log
  std::vector<std::string> words;  // what follows the subcommand's name, minus --data

  std::string log_dir() const { return data_dir + "/log"; }      // the event store
  std::string views_dir() const { return data_dir + "/views"; }  // the projections
};

struct OptionSpec {
  std::string name;  // without the leading dashes
  bool takes_value = true;
  bool repeatable = false;
};

class Options {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  // The values given for `name`, in command-line order (empty when absent; {""} for a flag).
  const std::vector<std::string>& all(const std::string& name) const;
  // The single value of `name`, or `fallback` when absent.
  std::string get(const std::string& name, const std::string& fallback = {}) const;
  // The value of `name` as a non-negative integer; invalid_argument naming the option when it is not.
  Result<std::uint64_t> get_count(const std::string& name, std::uint64_t fallback) const;

 private:
  friend Result<Options> parse_options(const std::vector<std::string>&, const std::vector<OptionSpec>&);
  std::map<std::string, std::vector<std::string>> values_;
};

Result<Options> parse_options(const std::vector<std::string>& words, const std::vector<OptionSpec>& specs);

// Opens the event store (args.log_url's, else the one in args.log_dir()) read-only: nothing is created or
// changed, a missing store is not_found, and voxlogd may be appending at the same time.
Result<std::unique_ptr<EventStore>> open_log_read_only(const Args& args);

// Prints "voxlog <command>: <status>" on stderr and returns the exit code that goes with it.
int report_failure(const Args& args, const Status& status, int exit_code = kExitFailed);

}  // namespace voxlog::cli
