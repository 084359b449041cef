// voxlog migrate [--from SOURCE] --to TARGET [--batch N]: copies a whole log to an empty log on either
// backend (eventstore/log_copy.hpp), then verifies the target and compares it with the source.
//
// SOURCE and TARGET are each an LMDB log directory (DATA_DIR/log) or a postgresql:// URL; SOURCE defaults
// to the log the other commands read (LOG_URL, else DATA_DIR/log). Stop voxlogd first: events appended to
// the source during the copy make the comparison fail. A target that holds any event is refused before
// anything is written to it. Progress goes to stderr, the result to stdout; exit 1 on any failure or
// difference. URLs are printed with their passwords redacted.
#include <filesystem>
#include <iostream>

#include "eventstore/log_copy.hpp"
#include "eventstore/log_url.hpp"
#include "tools/voxlog/commands.hpp"

namespace voxlog::cli {
namespace {

bool is_url(const std::string& spec) {
  return spec.find("://") != std::string::npos;
}

std::string shown(const std::string& spec) {
  return is_url(spec) ? log_url::redact(spec) : spec;
}

// A directory is an LMDB log; anything with a scheme goes to open_url, which knows which it takes.
Result<std::unique_ptr<EventStore>> open_spec(const std::string& spec, StoreOptions options) {
  if (is_url(spec)) return EventStore::open_url(spec, "", options);
  // The easy slip: DATA_DIR where its log was meant. The store would only say "holds other files".
  std::error_code ec;
  if (std::filesystem::exists(spec + "/log/data.mdb", ec) && !std::filesystem::exists(spec + "/data.mdb", ec))
    return invalid_argument(spec + " is a data directory: its log is " + spec + "/log");
  return EventStore::open(spec, options);
}

// ok when the target is missing or holds no event; opened read-only, so a refused target is not touched.
Status check_empty(const std::string& spec) {
  StoreOptions ro;
  ro.read_only = true;
  auto store = open_spec(spec, ro);
  if (!store) return store.status().code() == StatusCode::not_found ? Status::ok() : store.status();
  auto stats = (*store)->stats();
  if (!stats) return stats.status();
  if (stats->events != 0) {
    return failed_precondition("the target " + shown(spec) + " is not empty (" +
                               std::to_string(stats->events) +
                               " events): migrate writes only into an empty log; nothing was changed");
  }
  return Status::ok();
}

}  // namespace

int migrate_command(const Args& args) {
  auto options = parse_options(args.words, {{"from"}, {"to"}, {"batch"}});
  if (!options) return report_failure(args, options.status(), kExitUsage);
  const std::string from = options->get("from", args.log_url.empty() ? args.log_dir() : args.log_url);
  const std::string to = options->get("to");
  if (to.empty()) return report_failure(args, invalid_argument("--to TARGET is required"), kExitUsage);
  auto batch = options->get_count("batch", 10000);
  if (!batch) return report_failure(args, batch.status(), kExitUsage);
  if (*batch == 0) return report_failure(args, invalid_argument("--batch must be at least 1"), kExitUsage);

  StoreOptions ro;
  ro.read_only = true;
  auto source = open_spec(from, ro);
  if (!source) return report_failure(args, source.status());
  if (Status empty = check_empty(to); !empty) return report_failure(args, empty);
  auto counted = (*source)->stats();
  if (!counted) return report_failure(args, counted.status());
  const std::uint64_t total = counted->events;  // the log is dense: its last seq

  std::cerr << "voxlog migrate: copying " << total << " events from " << (*source)->describe() << " to "
            << shown(to) << ", " << *batch << " at a time\n";
  {
    StoreOptions writable;
    writable.max_batch = static_cast<std::size_t>(*batch);
    auto target = open_spec(to, writable);
    if (!target) return report_failure(args, target.status());
    CopyOptions copy;
    copy.chunk = static_cast<std::size_t>(*batch);
    copy.progress = [](std::uint64_t copied, std::uint64_t all) {
      std::cerr << "voxlog migrate: " << copied << " / " << all << " events ("
                << (all ? copied * 100 / all : 100) << "%)\n";
    };
    auto copied = copy_log(**source, **target, total, copy);
    if (!copied) {
      // Say what the failure left behind: migrate only ever writes into an empty target.
      std::string left;
      if (auto now = (*target)->stats(); now && now->events != 0)
        left = " (the target now holds " + std::to_string(now->events) +
               " events: empty it before migrating again)";
      return report_failure(args, Status(copied.status().code(), copied.status().message() + left));
    }
  }  // the target's writer drains and stops here

  // Check the target as any reader would find it: opened afresh, read-only.
  auto target = open_spec(to, ro);
  if (!target) return report_failure(args, target.status());
  std::cerr << "voxlog migrate: verifying " << (*target)->describe() << "\n";
  if (Status verified = (*target)->verify(); !verified) {
    return report_failure(args, Status(verified.code(), "the target fails verify: " + verified.message()));
  }
  std::cerr << "voxlog migrate: comparing the target with the source, event by event\n";
  auto same = compare_logs(**source, **target);
  if (!same) {
    return report_failure(
        args, Status(same.status().code(), "the target differs from the source: " + same.status().message()));
  }
  std::cout << "migrated " << same->events << " events (last seq " << same->last_seq << ", " << same->streams
            << " streams, " << same->dedupe_keys << " dedupe keys) from " << (*source)->describe() << " to "
            << (*target)->describe() << "\n"
            << "target verified; identical to the source event by event\n"
            << "sha256 of `voxlog events`: " << same->sha256 << "\n";
  return kExitOk;
}

}  // namespace voxlog::cli
