// Reading and writing optional string fields of JSON objects (event data, webhook params, API rows): the
// one pair of helpers every module uses, so "absent", "not a string" and "empty" mean the same everywhere.
// And the one parser of JSON that comes from outside (request bodies, Socket.IO auth, Twilio's answers):
// parse_untrusted_json refuses text nested deeper than kMaxJsonDepth before nlohmann sees it, because
// nlohmann parses any depth but copies, compares and dumps a document recursively, one stack frame a
// level (a 100,000-deep webhook overflowed voxlogd's stack when its event was written).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "eventstore/status.hpp"

namespace voxlog {

// Deeper than any real request (a campaign's contacts are 3 levels), far below what the stack holds.
inline constexpr std::size_t kMaxJsonDepth = 64;

// False when `text` opens more than `max_depth` arrays and objects inside one another. One pass, no
// allocation; strings are skipped as JSON reads them, so for any text nlohmann accepts, the depth counted
// is the document's.
bool json_depth_within(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// nlohmann::json::parse for text from outside, or invalid_argument "not valid JSON" / "nested deeper
// than 64 levels", written to follow what was parsed ("the body is " + message).
Result<nlohmann::json> parse_untrusted_json(std::string_view text);

// The string at `key`, or "" when it is absent or not a string. A reference into `object` (or to a
// static empty string), so reading a field copies nothing: keep it only as long as `object` lives.
// The key is a string_view so that the object's keys are compared by length and memcmp; a const char*
// key was measured its length again at every node of the lookup.
inline const std::string& string_field(const nlohmann::json& object, std::string_view key) {
  static const std::string empty;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get_ref<const std::string&>() : empty;
}

// "" becomes null, as the Node app's nullable columns are.
inline nlohmann::json string_or_null(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

}  // namespace voxlog
