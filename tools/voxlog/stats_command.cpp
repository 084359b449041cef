// voxlog stats: counts and sizes of the event store, as aligned text or (--json) one JSON object.
#include <iomanip>
#include <iostream>
#include <map>

#include "tools/voxlog/commands.hpp"

namespace voxlog::cli {

int stats_command(const Args& args) {
  auto options = parse_options(args.words, {{"json", false}});
  if (!options) return report_failure(args, options.status(), kExitUsage);
  auto store = open_log_read_only(args);
  if (!store) return report_failure(args, store.status());
  auto stats = (*store)->stats();
  if (!stats) return report_failure(args, stats.status());
  // Per-type counts need every value: one pass over the log, the same cost as a replay.
  std::map<std::string, std::uint64_t> by_type;
  std::uint64_t data_bytes = 0, last_seq = 0;
  Status scanned = (*store)->scan(0, [&](const Event& e) {
    ++by_type[e.type];
    data_bytes += e.data.dump().size();
    last_seq = e.seq;
    return true;
  });
  if (!scanned) return report_failure(args, scanned);

  nlohmann::json j = {
      {"dir", (*store)->describe()}, {"events", stats->events},           {"last_seq", last_seq},
      {"streams", stats->streams},   {"dedupe_keys", stats->dedupe_keys}, {"data_json_bytes", data_bytes},
      {"events_by_type", by_type}};
  // LMDB's own figures; a PostgreSQL log has no map (its size is the database's business).
  const bool lmdb = stats->map_bytes != 0;
  if (lmdb) {
    j["indexed_through"] = stats->indexed_through;
    j["file_bytes"] = stats->file_bytes;
    j["map_bytes"] = stats->map_bytes;
  }
  if (options->has("json")) {
    std::cout << j.dump() << "\n";
    return kExitOk;
  }
  auto row = [](const std::string& name, const nlohmann::json& value) {
    std::cout << std::left << std::setw(18) << name
              << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  };
  for (const char* name : {"dir", "events", "last_seq", "streams", "dedupe_keys", "indexed_through",
                           "data_json_bytes", "file_bytes", "map_bytes"}) {
    if (j.contains(name)) row(name, j[name]);
  }
  std::cout << "events by type:\n";
  for (const auto& [type, count] : by_type) row("  " + type, count);
  return kExitOk;
}

}  // namespace voxlog::cli
