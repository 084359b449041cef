// Reading and writing optional string fields of JSON objects (event data, webhook params, API rows): the
// one pair of helpers every module uses, so "absent", "not a string" and "empty" mean the same everywhere.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace voxlog {

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
