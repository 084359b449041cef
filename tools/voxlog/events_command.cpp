// voxlog events: prints committed events as JSON lines (the envelope of to_json), oldest first.
#include <iostream>
#include <limits>
#include <set>

#include "tools/voxlog/commands.hpp"

namespace voxlog::cli {

namespace {
constexpr std::size_t kStreamPage = 1000;  // events per read transaction when following one stream
}

int events_command(const Args& args) {
  auto options = parse_options(args.words, {{"after"}, {"stream"}, {"type", true, true}, {"limit"}});
  if (!options) return report_failure(args, options.status(), kExitUsage);
  auto after = options->get_count("after", 0);
  if (!after) return report_failure(args, after.status(), kExitUsage);
  auto limit = options->get_count("limit", std::numeric_limits<std::uint64_t>::max());
  if (!limit) return report_failure(args, limit.status(), kExitUsage);
  const std::set<std::string> types(options->all("type").begin(), options->all("type").end());

  auto store = open_log_read_only(args);
  if (!store) return report_failure(args, store.status());

  std::uint64_t printed = 0;
  // Prints `e` if it passes the filters; false once the limit is reached.
  auto emit = [&](const Event& e) {
    if (printed >= *limit) return false;
    if (e.seq <= *after) return true;
    if (!types.empty() && types.count(e.type) == 0) return true;
    std::cout << to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return ++printed < *limit;
  };

  Status status;
  if (options->has("stream")) {
    const std::string stream = options->get("stream");
    for (std::uint64_t version = 1;;) {
      auto page = (*store)->read_stream(stream, version, kStreamPage);
      if (!page) {
        status = page.status();
        break;
      }
      bool limit_reached = false;
      for (const Event& e : *page) {
        if (!emit(e)) {
          limit_reached = true;
          break;
        }
      }
      if (limit_reached || page->size() < kStreamPage) break;
      version = page->back().version + 1;
    }
  } else {
    status = (*store)->scan(*after, emit);
  }
  std::cout.flush();
  if (!status) return report_failure(args, status);
  return kExitOk;
}

}  // namespace voxlog::cli
