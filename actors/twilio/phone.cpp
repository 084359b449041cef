#include "actors/twilio/phone.hpp"

#include "eventstore/text.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

namespace voxlog {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

const char* parse_problem(PhoneNumberUtil::ErrorType error) {
  switch (error) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return "unknown country code";
    case PhoneNumberUtil::NOT_A_NUMBER: return "not a number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN: return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN: return "too long";
    case PhoneNumberUtil::NO_PARSING_ERROR: break;
  }
  return "unparseable";
}

}  // namespace

Result<std::string> normalize_e164(std::string_view input, std::string_view default_region) {
  if (input.size() > kMaxPhoneInputChars) {
    return invalid_argument("'" + utf8_prefix(input, 20) + "...' is not a valid phone number (longer than " +
                            std::to_string(kMaxPhoneInputChars) + " characters)");
  }
  const std::string text(input);
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  auto error = util.Parse(text, std::string(default_region), &number);
  if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
    return invalid_argument("'" + text + "' is not a valid phone number (" + parse_problem(error) + ")");
  }
  if (!util.IsValidNumber(number)) return invalid_argument("'" + text + "' is not a valid phone number");
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

}  // namespace voxlog
