#include "eventstore/json_fields.hpp"

namespace voxlog {

bool json_depth_within(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

Result<nlohmann::json> parse_untrusted_json(std::string_view text) {
  if (!json_depth_within(text))
    return invalid_argument("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return invalid_argument("not valid JSON");
  return parsed;
}

}  // namespace voxlog
