#include <string>

#include <catch2/catch.hpp>

#include "actors/twilio/phone.hpp"

using voxlog::normalize_e164;

namespace {

std::string e164(const std::string& input, const std::string& region) {
  auto r = normalize_e164(input, region);
  INFO(input << " in " << region << ": " << r.status().to_string());
  REQUIRE(r.is_ok());
  return r.value();
}

}  // namespace

TEST_CASE("international numbers in any punctuation become E.164", "[phone]") {
  CHECK(e164("+44 20 7946 0018", "GB") == "+442079460018");
  CHECK(e164("+44 (0)20 7946-0018", "US") == "+442079460018");
  CHECK(e164("+90 532 123 45 67", "GB") == "+905321234567");
  CHECK(e164("+1 (650) 253-0000", "GB") == "+16502530000");
  CHECK(e164("+1.650.253.0000", "TR") == "+16502530000");
  CHECK(e164("00905321234567", "GB") == "+905321234567");  // the UK's international prefix
}

TEST_CASE("national numbers use the default region", "[phone]") {
  CHECK(e164("020 7946 0018", "GB") == "+442079460018");
  CHECK(e164("07400 123456", "GB") == "+447400123456");
  CHECK(e164("0532 123 45 67", "TR") == "+905321234567");
  CHECK(e164("(650) 253-0000", "US") == "+16502530000");
  // The same digits mean another number in another region, or nothing at all.
  CHECK_FALSE(normalize_e164("0532 123 45 67", "US").is_ok());
}

TEST_CASE("invalid input is refused with a message naming it", "[phone]") {
  for (std::string bad : {"+44 12", "hello", "", "+999 123456789", "+44 20 7946 0018 99999", "12345"}) {
    auto r = normalize_e164(bad, "GB");
    INFO(bad);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == voxlog::StatusCode::invalid_argument);
    CHECK_THAT(r.status().message(), Catch::Contains("'" + bad + "' is not a valid phone number"));
  }
}

TEST_CASE("overlong input is refused before parsing", "[phone]") {
  std::string huge(5000, '1');
  auto r = normalize_e164("+" + huge, "GB");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == voxlog::StatusCode::invalid_argument);
  CHECK(r.status().message().size() < 200);
}
