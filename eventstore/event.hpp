// Event: one entry of the voxlog log, its envelope laid out in eventstore/FORMAT.md.
//
// Contract: an Event is an immutable fact once committed. `seq` is the global position (dense, from 1),
// `version` the position within `stream` (dense, from 1). `type` is past tense (`CallStatusChanged`) and
// `v` its schema version: a published (type, v) never changes meaning; a new shape gets v+1.
// `ts` is the server's receive time in ms since the Unix epoch. `source` is one of the EventSource names.
// `data` is a JSON object; webhook events keep the raw parameters exactly as received.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace voxlog {

namespace source {
inline constexpr const char* twilio_webhook = "twilio-webhook";
inline constexpr const char* api = "api";
inline constexpr const char* system = "system";
inline constexpr const char* simulator = "simulator";
}  // namespace source

struct Event {
  std::uint64_t seq = 0;
  std::string stream;
  std::uint64_t version = 0;
  std::string type;
  std::uint32_t v = 1;
  std::int64_t ts = 0;
  std::string source;
  std::string dedupe;  // empty when the append had no idempotency key
  nlohmann::json data = nlohmann::json::object();
};

// The envelope as one JSON object: {"seq","stream","version","type","v","ts","source","dedupe"?,"data"}.
// This is the shape of `voxlog events`, GET /api/events and the WebSocket messages.
nlohmann::json to_json(const Event& e);

// An event before it is committed: the store assigns seq, stream, version and copies ts/source/dedupe
// from its AppendRequest. `data_json`, when not empty, is `data` already serialised with
// codec::dump_data_json (and must be exactly that): the store writes it instead of serialising `data`
// again. An appender that has to keep the text anyway (the call actor, to decide again after a
// conflict) saves the second serialisation.
struct NewEvent {
  NewEvent() = default;
  NewEvent(std::string type, nlohmann::json data, std::uint32_t v = 1)
      : type(std::move(type)), data(std::move(data)), v(v) {}

  std::string type;
  nlohmann::json data = nlohmann::json::object();
  std::uint32_t v = 1;
  std::string data_json;
};

std::int64_t now_ms();

}  // namespace voxlog
