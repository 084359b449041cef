// What the contact import tests share (contact_import_test.cpp, contact_import_options_test.cpp): valid
// numbers, and a body with one contact.
#pragma once

#include <nlohmann/json.hpp>

namespace voxlog::test {

// Valid numbers: GB mobiles of 07400 (GB itself, not a Crown dependency) and NANP's example 201-555-0123.
inline constexpr const char* kAnn = "+447400123456";
inline constexpr const char* kBob = "+447400123457";
inline constexpr const char* kUs = "+12015550123";

// `options` with a contacts list of one valid number.
inline nlohmann::json one_contact(nlohmann::json options = nlohmann::json::object()) {
  options["contacts"] = nlohmann::json::array({{{"phone", kAnn}}});
  return options;
}

}  // namespace voxlog::test
