// Text helpers every layer uses, so that each has one implementation: ASCII lower case, ISO-8601 UTC
// times, and the constant-time comparison of secrets.
//
// Contract: pure functions. iso8601_s(t) is "2024-03-21T10:30:00Z", iso8601_ms(ms) is
// "2024-03-21T10:30:00.000Z" (written by hand for the years 0 to 9999: the call view writes two per row);
// parse_iso8601 reads the seconds form (an offset other than Z is not accepted). equal_secret compares in
// time that depends on the lengths only, never on where the strings differ.
//
// Thread-safety: any thread may call any of them (no locale, no gmtime lock on the common path).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace voxlog {

std::string lower_ascii(std::string_view s);
std::string iso8601_s(std::time_t t);
std::string iso8601_ms(std::int64_t ms);
std::optional<std::time_t> parse_iso8601(const std::string& text);
bool equal_secret(std::string_view a, std::string_view b);
// At most `max_bytes` of `s`, cut back to a character boundary (valid UTF-8 stays valid).
std::string utf8_prefix(std::string_view s, std::size_t max_bytes);
bool is_valid_utf8(std::string_view s);
// `prefix`, then the time in ms (12 hex digits: ids sort by creation), then 48 random bits: "RQ01a2…".
std::string time_ordered_id(std::string_view prefix);

}  // namespace voxlog
