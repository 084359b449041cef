// Phone numbers: the one place that turns what a user typed into an E.164 number ("+447700900123").
//
// Contract: normalize_e164() parses with libphonenumber, using `default_region` (ISO 3166 two-letter code,
// e.g. "GB") for numbers written without a +country prefix, and accepts only numbers libphonenumber
// considers valid (IsValidNumber: right length and an assigned range for the region). Spaces, dashes, dots
// and parentheses are allowed. Anything else is invalid_argument naming the input, e.g.
// "'+44 12' is not a valid phone number". Inputs longer than kMaxPhoneInputChars are refused before parsing.
// Call it at the edges (HTTP, CSV import) so that the log only ever holds E.164 numbers.
//
// Thread-safety: safe to call from any thread (PhoneNumberUtil::GetInstance() is thread-safe).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "eventstore/status.hpp"

namespace voxlog {

inline constexpr std::size_t kMaxPhoneInputChars = 64;

Result<std::string> normalize_e164(std::string_view input, std::string_view default_region);

}  // namespace voxlog
