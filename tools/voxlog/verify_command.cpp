// voxlog verify: checks every invariant of eventstore/FORMAT.md; "ok: N events, M streams" or the first
// violation on stderr and exit 1.
#include <iostream>

#include "tools/voxlog/commands.hpp"

namespace voxlog::cli {

int verify_command(const Args& args) {
  auto options = parse_options(args.words, {});
  if (!options) return report_failure(args, options.status(), kExitUsage);
  auto store = open_log_read_only(args);
  if (!store) return report_failure(args, store.status());
  if (Status verified = (*store)->verify(); !verified) return report_failure(args, verified);
  // verify() and stats() are two read transactions: with a live writer the counts may be a little newer.
  auto stats = (*store)->stats();
  if (!stats) return report_failure(args, stats.status());
  std::cout << "ok: " << stats->events << " events, " << stats->streams << " streams\n";
  return kExitOk;
}

}  // namespace voxlog::cli
