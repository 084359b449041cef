#include "eventstore/text.hpp"

#include <chrono>
#include <random>

#include <cctype>
#include <cstdio>

#include <openssl/crypto.h>

namespace voxlog {

namespace {

// The proleptic Gregorian date of `days` since 1970-01-01 (H. Hinnant's civil_from_days), for days >= 0.
void civil_from_days(std::int64_t days, std::int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;  // from 0000-03-01, so that the leap day ends the year
  const std::int64_t era = days / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;  // 0 = March
  *day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  *month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  *year = static_cast<std::int64_t>(year_of_era) + era * 400 + (*month <= 2 ? 1 : 0);
}

void put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) at[i] = static_cast<char>('0' + value % 10);
}

}  // namespace

std::string iso8601_ms(std::int64_t ms) {
  constexpr std::int64_t kYear10000 = 253402300800000;  // the first ms whose year has five digits
  if (ms < 0 || ms >= kYear10000) {                     // rare: gmtime's spelling, with its lock and locale
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[48];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
    return buf;
  }
  // Every row serialisation writes two of these: by hand, without gmtime_r's global lock and strftime.
  std::int64_t secs = ms / 1000, days = secs / 86400;
  auto second_of_day = static_cast<unsigned>(secs - days * 86400);
  std::int64_t year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, &year, &month, &day);
  std::string out = "0000-00-00T00:00:00.000Z";
  put_digits(&out[0], static_cast<unsigned>(year), 4);
  put_digits(&out[5], month, 2);
  put_digits(&out[8], day, 2);
  put_digits(&out[11], second_of_day / 3600, 2);
  put_digits(&out[14], second_of_day / 60 % 60, 2);
  put_digits(&out[17], second_of_day % 60, 2);
  put_digits(&out[20], static_cast<unsigned>(ms % 1000), 3);
  return out;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string iso8601_s(std::time_t t) {
  std::string ms = iso8601_ms(static_cast<std::int64_t>(t) * 1000);
  return ms.substr(0, ms.size() - 5) + "Z";  // drop ".000"
}

std::optional<std::time_t> parse_iso8601(const std::string& text) {
  std::tm tm{};
  char zone = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &zone) < 6 ||
      (zone != 0 && zone != 'Z')) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
}

bool equal_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t end = max_bytes;
  // Back off over continuation bytes (10xxxxxx) to the lead byte of the cut character, which goes too.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 9;
    if (n == 9 || (n == 1 && c < 0xC2) || i + n >= s.size() + (n ? 0 : 1)) return false;
    std::uint32_t cp = n == 0 ? c : c & (0x3F >> n);
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += n + 1;
  }
  return true;
}

std::string time_ordered_id(std::string_view prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id(prefix);
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  for (int shift = 44; shift >= 0; shift -= 4) id += hex[(now >> shift) & 0xf];
  std::uint64_t bits = rng();
  for (int i = 0; i < 12; ++i, bits >>= 4) id += hex[bits & 0xf];
  return id;
}

}  // namespace voxlog
