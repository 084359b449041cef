// in_window / next_opening / zones_for / expand_zones / appointment_words
// (actors/campaign/calling_window.hpp): calling hours in the callee's zone(s), across weekdays, midnight and
// daylight-saving changes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "actors/campaign/calling_window.hpp"
#include "tests/actors/campaign/test_time.hpp"

using namespace voxlog;
using test::utc_ms;

namespace {

using Zones = std::vector<std::string>;
const Zones kLondon = {"Europe/London"};
const Zones kNewYork = {"America/New_York"};

CampaignPolicy window(int from_h, int from_m, int to_h, int to_m, unsigned days = 0x7f) {
  CampaignPolicy p;
  p.window_from_min = from_h * 60 + from_m;
  p.window_to_min = to_h * 60 + to_m;
  p.window_days = days;
  return p;
}

constexpr unsigned kMonFri = 0x1f;

// 2026-12-05 is a Saturday, 2026-12-07 a Monday, 2026-12-08 a Tuesday.

}  // namespace

TEST_CASE("window: no window holds at any time") {
  CampaignPolicy p;
  CHECK(in_window(p, kLondon, utc_ms(2026, 12, 7, 3)));
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 7, 3)) == utc_ms(2026, 12, 7, 3));
}

TEST_CASE("window: 09:00-20:00 in Europe/London (UTC in December)") {
  CampaignPolicy p = window(9, 0, 20, 0);
  CHECK_FALSE(in_window(p, kLondon, utc_ms(2026, 12, 7, 8, 59)));
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 7, 8, 59)) == utc_ms(2026, 12, 7, 9));
  CHECK(in_window(p, kLondon, utc_ms(2026, 12, 7, 9)));
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 7, 9)) == utc_ms(2026, 12, 7, 9));  // at itself
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 7, 12, 34, 56)) == utc_ms(2026, 12, 7, 12, 34, 56));
  CHECK(in_window(p, kLondon, utc_ms(2026, 12, 7, 19, 59)));
  CHECK_FALSE(in_window(p, kLondon, utc_ms(2026, 12, 7, 20)));  // the end is excluded
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 7, 20)) == utc_ms(2026, 12, 8, 9));
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 7, 0, 1)) == utc_ms(2026, 12, 7, 9));
}

TEST_CASE("window: 09:00-20:00 in America/New_York (UTC-5 in December)") {
  CampaignPolicy p = window(9, 0, 20, 0);
  CHECK_FALSE(in_window(p, kNewYork, utc_ms(2026, 12, 7, 8, 59)));
  CHECK_FALSE(in_window(p, kNewYork, utc_ms(2026, 12, 7, 13, 59)));
  CHECK(next_opening(p, kNewYork, utc_ms(2026, 12, 7, 8, 59)) == utc_ms(2026, 12, 7, 14));
  CHECK(in_window(p, kNewYork, utc_ms(2026, 12, 7, 14)));     // 09:00 in New York
  CHECK(in_window(p, kNewYork, utc_ms(2026, 12, 8, 0, 59)));  // 19:59 on Monday there
  CHECK_FALSE(in_window(p, kNewYork, utc_ms(2026, 12, 8, 1)));
  CHECK(next_opening(p, kNewYork, utc_ms(2026, 12, 8, 1)) == utc_ms(2026, 12, 8, 14));
}

TEST_CASE("window: weekdays only: a Saturday waits for Monday 09:00 local") {
  CampaignPolicy p = window(9, 0, 20, 0, kMonFri);
  CHECK_FALSE(in_window(p, kLondon, utc_ms(2026, 12, 5, 12)));
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 5, 12)) == utc_ms(2026, 12, 7, 9));
  CHECK(next_opening(p, kNewYork, utc_ms(2026, 12, 5, 15)) == utc_ms(2026, 12, 7, 14));
  // Friday evening after the close.
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 4, 20, 30)) == utc_ms(2026, 12, 7, 9));
  // 02:00Z on Saturday is still Friday 21:00 in New York: closed, and the next opening is Monday's.
  CHECK(next_opening(p, kNewYork, utc_ms(2026, 12, 5, 2)) == utc_ms(2026, 12, 7, 14));
  // Friday 15:00 New York is in; Saturday 15:00 is not.
  CHECK(in_window(p, kNewYork, utc_ms(2026, 12, 4, 20)));
  CHECK_FALSE(in_window(p, kNewYork, utc_ms(2026, 12, 5, 20)));

  CampaignPolicy weekend = window(10, 0, 16, 0, 0x60);
  CHECK(next_opening(weekend, kLondon, utc_ms(2026, 12, 7, 12)) == utc_ms(2026, 12, 12, 10));
  CHECK(in_window(weekend, kLondon, utc_ms(2026, 12, 6, 15, 59)));
}

TEST_CASE("window: an overnight window 22:00-06:00 holds across midnight") {
  CampaignPolicy p = window(22, 0, 6, 0);
  CHECK_FALSE(in_window(p, kLondon, utc_ms(2026, 12, 7, 21, 59)));
  CHECK(in_window(p, kLondon, utc_ms(2026, 12, 7, 22)));
  CHECK(in_window(p, kLondon, utc_ms(2026, 12, 7, 23, 30)));
  CHECK(in_window(p, kLondon, utc_ms(2026, 12, 8, 3)));
  CHECK(in_window(p, kLondon, utc_ms(2026, 12, 8, 5, 59)));
  CHECK_FALSE(in_window(p, kLondon, utc_ms(2026, 12, 8, 6)));
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 8, 6)) == utc_ms(2026, 12, 8, 22));
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 8, 12)) == utc_ms(2026, 12, 8, 22));
  CHECK(next_opening(p, kLondon, utc_ms(2026, 12, 8, 2)) == utc_ms(2026, 12, 8, 2));
  CHECK(next_opening(p, kNewYork, utc_ms(2026, 12, 8, 12)) == utc_ms(2026, 12, 9, 3));  // 22:00 EST
}

TEST_CASE("window: on the spring DST change (Europe/London, 29 March 2026) it still opens at 09:00 local") {
  CampaignPolicy p = window(9, 0, 20, 0);
  // The day before: GMT, 09:00 = 09:00Z. The day itself and after: BST, 09:00 = 08:00Z.
  CHECK(next_opening(p, kLondon, utc_ms(2026, 3, 28, 0, 30)) == utc_ms(2026, 3, 28, 9));
  CHECK(next_opening(p, kLondon, utc_ms(2026, 3, 29, 0, 30)) == utc_ms(2026, 3, 29, 8));  // before 01:00Z
  CHECK(next_opening(p, kLondon, utc_ms(2026, 3, 28, 20)) == utc_ms(2026, 3, 29, 8));     // across the change
  CHECK(next_opening(p, kLondon, utc_ms(2026, 3, 29, 19)) == utc_ms(2026, 3, 30, 8));     // 20:00 BST
  CHECK_FALSE(in_window(p, kLondon, utc_ms(2026, 3, 29, 7, 59)));
  CHECK(in_window(p, kLondon, utc_ms(2026, 3, 29, 8)));
  CHECK(in_window(p, kLondon, utc_ms(2026, 3, 29, 18, 59)));
  CHECK_FALSE(in_window(p, kLondon, utc_ms(2026, 3, 29, 19)));
}

TEST_CASE("window: on the autumn DST changes (London 25 October, New York 1 November 2026)") {
  CampaignPolicy p = window(9, 0, 20, 0);
  CHECK(next_opening(p, kLondon, utc_ms(2026, 10, 24, 20)) == utc_ms(2026, 10, 25, 9));
  CHECK(in_window(p, kLondon, utc_ms(2026, 10, 25, 19, 59)));
  CHECK_FALSE(in_window(p, kLondon, utc_ms(2026, 10, 24, 19)));  // 20:00 BST the day before
  CHECK(next_opening(p, kNewYork, utc_ms(2026, 11, 1, 2)) == utc_ms(2026, 11, 1, 14));    // EST from 06:00Z
  CHECK(next_opening(p, kNewYork, utc_ms(2026, 10, 31, 2)) == utc_ms(2026, 10, 31, 13));  // still EDT
}

TEST_CASE("window: a region with several zones holds only when it holds in all of them") {
  auto us = expand_zones({"region:US"});
  CHECK(us.size() > 5);
  CHECK(std::find(us.begin(), us.end(), "America/New_York") != us.end());
  CHECK(std::find(us.begin(), us.end(), "America/Los_Angeles") != us.end());
  CHECK(std::find(us.begin(), us.end(), "Pacific/Honolulu") != us.end());
  CHECK(std::is_sorted(us.begin(), us.end()));

  // In December: 09:00 in Honolulu (UTC-10) is 19:00Z; 20:00 in New York (UTC-5) is 01:00Z.
  CampaignPolicy p = window(9, 0, 20, 0);
  const Zones region = {"region:US"};
  CHECK(in_window(p, kNewYork, utc_ms(2026, 12, 7, 14)));
  CHECK_FALSE(in_window(p, region, utc_ms(2026, 12, 7, 14)));
  CHECK_FALSE(in_window(p, region, utc_ms(2026, 12, 7, 18, 59)));
  CHECK(in_window(p, region, utc_ms(2026, 12, 7, 19)));
  CHECK(in_window(p, region, utc_ms(2026, 12, 8, 0, 59)));
  CHECK_FALSE(in_window(p, region, utc_ms(2026, 12, 8, 1)));
  CHECK(next_opening(p, region, utc_ms(2026, 12, 7, 14)) == utc_ms(2026, 12, 7, 19));
  CHECK(next_opening(p, region, utc_ms(2026, 12, 8, 1)) == utc_ms(2026, 12, 8, 19));

  const Zones two = {"Europe/London", "America/New_York"};  // 14:00Z-20:00Z
  CHECK_FALSE(in_window(p, two, utc_ms(2026, 12, 7, 10)));
  CHECK(next_opening(p, two, utc_ms(2026, 12, 7, 10)) == utc_ms(2026, 12, 7, 14));
  CHECK(in_window(p, two, utc_ms(2026, 12, 7, 19, 59)));
  CHECK_FALSE(in_window(p, two, utc_ms(2026, 12, 7, 20)));
}

TEST_CASE("window: zones that never hold at once give the first zone's opening instead of waiting for ever") {
  CampaignPolicy p = window(9, 0, 10, 0);
  const Zones apart = {"Europe/London", "Asia/Tokyo"};  // 09:00-10:00Z and 00:00-01:00Z
  CHECK_FALSE(in_window(p, apart, utc_ms(2026, 12, 7, 9, 30)));
  CHECK(next_opening(p, apart, utc_ms(2026, 12, 7, 12)) == utc_ms(2026, 12, 8, 9));
}

TEST_CASE("zones_for: the contact's tz when ICU knows it, else its number's country, else the fallback") {
  CHECK(is_known_time_zone("America/New_York"));
  CHECK_FALSE(is_known_time_zone(""));
  CHECK_FALSE(is_known_time_zone("Mars/Olympus_Mons"));
  CHECK(zones_for("America/New_York", "+447400123456", "GB") == Zones{"America/New_York"});
  CHECK(zones_for("", "+447400123456", "GB") == Zones{"region:GB"});
  CHECK(zones_for("Nowhere/Else", "+12015550123", "GB") == Zones{"region:US"});
  CHECK(zones_for("", "garbage", "FR") == Zones{"region:FR"});
  CHECK(expand_zones({"region:GB"}) == Zones{"Europe/London"});
  CHECK(expand_zones({}) == Zones{"UTC"});
  CHECK(expand_zones({"Europe/Paris", "region:GB"}) == Zones{"Europe/Paris", "Europe/London"});
}

TEST_CASE("appointment_words: an ISO time in the callee's zone, as they would say it") {
  using Words = std::pair<std::string, std::string>;
  CHECK(appointment_words("2026-12-08T14:30:00Z", "Europe/London") == Words{"Tuesday 8 December", "14:30"});
  CHECK(appointment_words("2026-12-08T14:30:00.000Z", "Europe/London") ==
        Words{"Tuesday 8 December", "14:30"});
  CHECK(appointment_words("2026-12-08T14:30Z", "Europe/London") == Words{"Tuesday 8 December", "14:30"});
  CHECK(appointment_words("2026-12-08T15:30:00+01:00", "Europe/London") ==
        Words{"Tuesday 8 December", "14:30"});
  CHECK(appointment_words("2026-12-08T09:30:00-05:00", "Europe/London") ==
        Words{"Tuesday 8 December", "14:30"});
  CHECK(appointment_words("2026-12-08T14:30:00Z", "America/New_York") ==
        Words{"Tuesday 8 December", "09:30"});
  // The date moves with the zone.
  CHECK(appointment_words("2026-12-08T01:30:00Z", "America/New_York") == Words{"Monday 7 December", "20:30"});
  // In summer, London is UTC+1.
  CHECK(appointment_words("2026-06-09T08:05:00Z", "Europe/London") == Words{"Tuesday 9 June", "09:05"});
  // No zone given: UTC.
  CHECK(appointment_words("2026-12-08T14:30:00Z", "") == Words{"Tuesday 8 December", "14:30"});
}

TEST_CASE("appointment_words: a local time without a zone is the callee's own") {
  using Words = std::pair<std::string, std::string>;
  CHECK(appointment_words("2026-12-08 14:30", "America/New_York") == Words{"Tuesday 8 December", "14:30"});
  CHECK(appointment_words("2026-12-08T14:30:00", "Europe/London") == Words{"Tuesday 8 December", "14:30"});
  CHECK(appointment_words("2026-06-09 09:05", "Europe/London") == Words{"Tuesday 9 June", "09:05"});
}

TEST_CASE("appointment_words: what does not parse gives empty strings") {
  using Words = std::pair<std::string, std::string>;
  for (const char* bad : {"", "tomorrow at ten", "2026-12-08", "2026-12-08X14:30", "2026-12-08T14:30:00 CET",
                          "2026-12-08T14:30:00+xx"}) {
    INFO(bad);
    CHECK(appointment_words(bad, "Europe/London") == Words{});
  }
}

// ---- known bug (fails until calling_window.cpp is mended) -----------------------------------------------

TEST_CASE("appointment_words gives empty strings for a date or time out of range, never another day") {
  // ICU's calendar is lenient: "30 February" becomes 2 March, hour 25 the next day. The callee would be told
  // a day nobody wrote.
  using Words = std::pair<std::string, std::string>;
  for (const char* bad : {"2026-02-30 10:00", "2026-13-45T09:00:00Z", "2026-12-08T25:61:00Z",
                          "2026-12-00 10:00", "2026-12-08T14:30:00+25:00"}) {
    INFO(bad);
    CHECK(appointment_words(bad, "Europe/London") == Words{});
  }
}
