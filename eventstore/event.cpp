#include "eventstore/event.hpp"

#include <chrono>

namespace voxlog {

nlohmann::json to_json(const Event& e) {
  nlohmann::json j = {{"seq", e.seq}, {"stream", e.stream}, {"version", e.version}, {"type", e.type},
                      {"v", e.v},     {"ts", e.ts},         {"source", e.source}};
  if (!e.dedupe.empty()) j["dedupe"] = e.dedupe;
  j["data"] = e.data;
  return j;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace voxlog
