// utc_ms(): an instant written as its UTC calendar time, in epoch ms (for the campaign tests' clocks).
#pragma once

#include <cstdint>
#include <ctime>

namespace voxlog::test {

inline std::int64_t utc_ms(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

}  // namespace voxlog::test
