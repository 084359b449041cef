#include "actors/campaign/calling_window.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include <phonenumbers/phonenumberutil.h>
#include <unicode/gregocal.h>
#include <unicode/smpdtfmt.h>
#include <unicode/strenum.h>
#include <unicode/timezone.h>

namespace voxlog {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

std::unique_ptr<icu::TimeZone> zone_named(const std::string& name) {
  return std::unique_ptr<icu::TimeZone>(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(name)));
}

std::vector<std::string> zones_of_region(const std::string& region) {
  static std::mutex mutex;
  static std::map<std::string, std::vector<std::string>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(region);
  if (it != cache.end()) return it->second;
  std::vector<std::string> zones;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::StringEnumeration> ids(icu::TimeZone::createTimeZoneIDEnumeration(
      UCAL_ZONE_TYPE_CANONICAL_LOCATION, region.c_str(), nullptr, status));
  if (U_SUCCESS(status) && ids) {
    while (const icu::UnicodeString* id = ids->snext(status)) {
      if (U_FAILURE(status)) break;
      std::string utf8;
      id->toUTF8String(utf8);
      zones.push_back(std::move(utf8));
    }
  }
  std::sort(zones.begin(), zones.end());
  cache.emplace(region, zones);
  return zones;
}

struct LocalTime {
  int weekday_bit = 0;  // 0 Monday .. 6 Sunday
  int minute = 0;       // after midnight
};

LocalTime local_time(const icu::TimeZone& zone, std::int64_t at_ms) {
  UErrorCode status = U_ZERO_ERROR;
  icu::GregorianCalendar calendar(zone, status);
  calendar.setTime(static_cast<UDate>(at_ms), status);
  int dow = calendar.get(UCAL_DAY_OF_WEEK, status);  // 1 Sunday .. 7 Saturday
  return {(dow + 5) % 7, calendar.get(UCAL_HOUR_OF_DAY, status) * 60 + calendar.get(UCAL_MINUTE, status)};
}

bool holds(const CampaignPolicy& p, const LocalTime& t) {
  bool day = (p.window_days >> t.weekday_bit) & 1u;
  if (p.window_from_min <= p.window_to_min)
    return day && t.minute >= p.window_from_min && t.minute < p.window_to_min;
  return day && (t.minute >= p.window_from_min || t.minute < p.window_to_min);  // overnight
}

bool holds_in(const CampaignPolicy& p, const std::string& zone, std::int64_t at_ms) {
  auto tz = zone_named(zone);
  return holds(p, local_time(*tz, at_ms));
}

// The first instant >= at_ms when the window holds in one zone (minute resolution).
std::int64_t opening_in(const CampaignPolicy& p, const std::string& zone, std::int64_t at_ms) {
  auto tz = zone_named(zone);
  if (holds(p, local_time(*tz, at_ms))) return at_ms;
  UErrorCode status = U_ZERO_ERROR;
  icu::GregorianCalendar calendar(*tz, status);
  calendar.setTime(static_cast<UDate>(at_ms), status);
  for (int day = 0; day <= 8; ++day) {
    icu::GregorianCalendar candidate(calendar);
    candidate.add(UCAL_DATE, day, status);
    candidate.set(UCAL_HOUR_OF_DAY, p.window_from_min / 60);
    candidate.set(UCAL_MINUTE, p.window_from_min % 60);
    candidate.set(UCAL_SECOND, 0);
    candidate.set(UCAL_MILLISECOND, 0);
    auto when = static_cast<std::int64_t>(candidate.getTime(status));
    if (U_SUCCESS(status) && when > at_ms && holds(p, local_time(*tz, when))) return when;
  }
  return at_ms + 24LL * 3600 * 1000;  // no weekday allowed: look again tomorrow
}

}  // namespace

bool is_known_time_zone(const std::string& tz) {
  if (tz.empty() || tz.size() > 64) return false;
  // An import asks once per row, mostly for the same few names: ICU builds a zone each time it is asked.
  static std::mutex mutex;
  static std::map<std::string, bool> known;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = known.find(tz);
  if (it != known.end()) return it->second;
  auto zone = zone_named(tz);
  icu::UnicodeString id;
  zone->getID(id);
  bool ok = id != icu::UnicodeString("Etc/Unknown");
  if (known.size() < 10000) known.emplace(tz, ok);
  return ok;
}

std::vector<std::string> zones_for(const std::string& tz, const std::string& e164,
                                   const std::string& fallback_region) {
  if (is_known_time_zone(tz)) return {tz};
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  std::string region;
  if (util.Parse(e164, fallback_region, &number) == PhoneNumberUtil::NO_PARSING_ERROR)
    util.GetRegionCodeForNumber(number, &region);
  if (region.empty() || zones_of_region(region).empty()) region = fallback_region;
  if (zones_of_region(region).empty()) return {"UTC"};
  return {"region:" + region};
}

std::vector<std::string> expand_zones(const std::vector<std::string>& zones) {
  std::vector<std::string> out;
  for (const std::string& z : zones) {
    if (z.rfind("region:", 0) == 0) {
      for (std::string& each : zones_of_region(z.substr(7))) out.push_back(std::move(each));
    } else {
      out.push_back(z);
    }
  }
  if (out.empty()) out.push_back("UTC");
  return out;
}

bool in_window(const CampaignPolicy& p, const std::vector<std::string>& compact, std::int64_t at_ms) {
  if (!p.has_window()) return true;
  auto zones = expand_zones(compact);
  return std::all_of(zones.begin(), zones.end(), [&](const std::string& z) { return holds_in(p, z, at_ms); });
}

std::int64_t next_opening(const CampaignPolicy& p, const std::vector<std::string>& compact,
                          std::int64_t at_ms) {
  if (!p.has_window()) return at_ms;
  auto zones = expand_zones(compact);
  std::int64_t t = at_ms;
  for (int round = 0; round < 64; ++round) {
    std::int64_t latest = t;
    for (const std::string& z : zones) latest = std::max(latest, opening_in(p, z, t));
    bool all =
        std::all_of(zones.begin(), zones.end(), [&](const std::string& z) { return holds_in(p, z, t); });
    if (latest == t && all) return t;
    if (latest == t) latest = t + 60 * 1000;  // every zone opens at t but not all at once: step on
    t = latest;
  }
  return opening_in(p, zones.front(), at_ms);
}

std::pair<std::string, std::string> appointment_words(const std::string& iso, const std::string& zone) {
  int y, mo, d, h, mi, s = 0;
  char sep;
  int consumed = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &consumed) < 6 ||
      (sep != 'T' && sep != ' '))
    return {};
  static const int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > days_in[mo - 1] + (mo == 2 && leap) ||
      h < 0 || h > 23 || mi < 0 || mi > 59)
    return {};  // a date nobody wrote must not be read out as another one
  std::string rest = iso.substr(static_cast<std::size_t>(consumed));
  if (rest.size() >= 3 && rest[0] == ':') {
    s = std::atoi(rest.substr(1, 2).c_str());
    if (s < 0 || s > 59) return {};
    rest = rest.substr(3);
    while (!rest.empty() && (rest[0] == '.' || std::isdigit(static_cast<unsigned char>(rest[0]))))
      rest = rest.substr(1);
  }
  UErrorCode status = U_ZERO_ERROR;
  auto tz = zone_named(zone.empty() ? "UTC" : zone);
  icu::GregorianCalendar calendar(*tz, status);
  calendar.clear();
  if (rest.empty()) {  // a local time: the callee's own
    calendar.set(y, mo - 1, d, h, mi, s);
  } else {
    int offset_min = 0;
    if (rest != "Z" && rest != "z") {
      int oh = 0, om = 0;
      if (rest.size() < 3 || (rest[0] != '+' && rest[0] != '-') ||
          std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) < 1)
        return {};
      if (oh > 14 || om > 59) return {};
      offset_min = (rest[0] == '-' ? -1 : 1) * (oh * 60 + om);
    }
    auto utc = zone_named("UTC");
    icu::GregorianCalendar at(*utc, status);
    at.clear();
    at.set(y, mo - 1, d, h, mi, s);
    calendar.setTime(at.getTime(status) - offset_min * 60000.0, status);
  }
  if (U_FAILURE(status)) return {};
  auto format = [&](const char* pattern) {
    UErrorCode st = U_ZERO_ERROR;
    icu::SimpleDateFormat f(icu::UnicodeString(pattern), icu::Locale("en", "GB"), st);
    f.setTimeZone(*tz);
    icu::UnicodeString out;
    f.format(calendar.getTime(st), out);
    std::string utf8;
    out.toUTF8String(utf8);
    return U_SUCCESS(st) ? utf8 : std::string();
  };
  return {format("EEEE d MMMM"), format("HH:mm")};
}

}  // namespace voxlog
