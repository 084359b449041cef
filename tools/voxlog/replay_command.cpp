// voxlog replay: rebuilds the projections (the calls view) from the log, the one source of truth.
//
//   voxlog replay            rebuild into DIR/views.rebuild, then swap it in for DIR/views (stop voxlogd
//   first:
//                            a running server keeps the old files open)
//   voxlog replay --out D    rebuild into D (new or empty), leave DIR/views alone
//   voxlog replay --check    rebuild into a temporary directory and compare with DIR/views byte for byte;
//                            exit 1 naming the first difference
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "projections/calls_view.hpp"
#include "tools/voxlog/commands.hpp"

namespace voxlog::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kBatch = 4096;

// Folds the whole log into a new view at `dir`. Returns the number of events applied.
Result<std::uint64_t> rebuild(EventStore& store, const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    return failed_precondition(dir + " exists and is not empty: replay builds a fresh view");
  auto view = CallsView::open(dir);
  if (!view) return view.status();
  std::vector<Event> batch;
  batch.reserve(kBatch);
  Status applied = Status::ok();
  Status scanned = store.scan(0, [&](const Event& e) {
    batch.push_back(e);
    if (batch.size() < kBatch) return true;
    auto r = (*view)->apply_batch(batch);
    batch.clear();
    if (!r) applied = r.status();
    return applied.is_ok();
  });
  if (!scanned) return scanned;
  if (!applied) return applied;
  if (auto r = (*view)->apply_batch(batch); !r) return r.status();
  return (*view)->checkpoint();
}

// For two entries that are JSON objects after their key ("KEY=LENGTH:{...}"), the fields whose values
// differ, each as "name: live -> rebuilt": a row's difference may lie past the 300 characters shown.
std::string differing_fields(const std::string& l, const std::string& r) {
  auto object_of = [](const std::string& entry) {
    auto brace = entry.find('{');
    return brace == std::string::npos ? nlohmann::json()
                                      : nlohmann::json::parse(entry.substr(brace), nullptr, false);
  };
  nlohmann::json live = object_of(l), rebuilt = object_of(r);
  if (!live.is_object() || !rebuilt.is_object()) return "";
  std::string out;
  for (const auto& [key, value] : live.items()) {
    auto other = rebuilt.find(key);
    if (other != rebuilt.end() && *other == value) continue;
    out += "\n    " + key + ": " + value.dump().substr(0, 80) + " -> " +
           (other == rebuilt.end() ? "(absent)" : other->dump().substr(0, 80));
  }
  for (const auto& [key, value] : rebuilt.items())
    if (!live.contains(key)) out += "\n    " + key + ": (absent) -> " + value.dump().substr(0, 80);
  return out.empty() ? "" : "\n  fields that differ:" + out;
}

// The first line where two dumps differ, for a precise message.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream left(a), right(b);
  std::string l, r;
  for (int line = 1;; ++line) {
    bool more_l = static_cast<bool>(std::getline(left, l)),
         more_r = static_cast<bool>(std::getline(right, r));
    if (!more_l && !more_r) return "no difference";
    if (l != r || more_l != more_r)
      return "entry " + std::to_string(line) + ":\n  live:    " + l.substr(0, 300) +
             "\n  rebuilt: " + r.substr(0, 300) + differing_fields(l, r);
  }
}

}  // namespace

int replay_command(const Args& args) {
  auto options = parse_options(args.words, {{"out", true}, {"check", false}});
  if (!options) return report_failure(args, options.status(), kExitUsage);
  auto store = open_log_read_only(args);
  if (!store) return report_failure(args, store.status());

  bool check = options->has("check");
  std::string target = options->get("out");
  if (check) {
    char pattern[] = "/tmp/voxlog-replay-XXXXXX";
    if (!mkdtemp(pattern)) return report_failure(args, internal_error("cannot create a temporary directory"));
    target = pattern;
  } else if (target.empty()) {
    target = args.views_dir() + ".rebuild";
    std::error_code ec;
    fs::remove_all(target, ec);  // a leftover of an interrupted replay
  }

  auto started = std::chrono::steady_clock::now();
  auto events = rebuild(**store, target);
  if (!events) return report_failure(args, events.status());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "replayed " << *events << " events in " << seconds << " s ("
            << static_cast<std::uint64_t>(*events / std::max(seconds, 1e-9)) << " events/s) into " << target
            << "\n";

  if (check) {
    auto live = CallsView::open(args.views_dir());
    auto rebuilt = CallsView::open(target);
    if (!live) return report_failure(args, live.status());
    if (!rebuilt) return report_failure(args, rebuilt.status());
    std::string a = (*live)->dump(), b = (*rebuilt)->dump();
    std::error_code ec;
    rebuilt->reset();
    fs::remove_all(target, ec);
    if (a != b) {
      std::cerr << "voxlog replay: the live view differs from the one rebuilt from the log at "
                << first_difference(a, b) << "\n";
      return kExitFailed;
    }
    std::cout << "identical: the live view equals the view rebuilt from the log (" << a.size() << " bytes)\n";
    return kExitOk;
  }
  if (options->has("out")) return kExitOk;

  std::string live = args.views_dir(), old = live + ".old";
  std::error_code ec;
  fs::remove_all(old, ec);
  if (fs::exists(live)) fs::rename(live, old, ec);
  if (ec) return report_failure(args, internal_error("cannot move " + live + " aside: " + ec.message()));
  fs::rename(target, live, ec);
  if (ec)
    return report_failure(args, internal_error("cannot move " + target + " into place: " + ec.message()));
  fs::remove_all(old, ec);
  std::cout << "the calls view in " << live << " now comes from the log\n";
  return kExitOk;
}

}  // namespace voxlog::cli
