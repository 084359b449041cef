// Fuzz target: the form decoder (parse_form), which reads every Twilio status callback and the signature's
// parameters. Properties: it never crashes; what it decodes, encoded again, decodes to the same pairs;
// form_to_json keeps every value.
#include <cctype>
#include <string>

#include "http/webhook_parse.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

std::string encode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = voxlog::parse_form(as_text(data, size));
  if (!parsed) return 0;
  std::string again;
  for (const auto& [name, value] : *parsed)
    again += (again.empty() ? "" : "&") + encode(name) + "=" + encode(value);
  auto reparsed = voxlog::parse_form(again);
  FUZZ_CHECK(reparsed && *reparsed == *parsed);

  std::size_t values = 0;
  nlohmann::json params = voxlog::form_to_json(*parsed);  // items() of a temporary would dangle
  for (const auto& [name, value] : params.items()) values += value.is_array() ? value.size() : 1;
  FUZZ_CHECK(values == parsed->size());
  return 0;
}
