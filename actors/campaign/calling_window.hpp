// Calling hours in the callee's time zone, and the appointment as the callee would say it.
//
// Contract: zones_for() says which time zone(s) a contact lives in, compactly (as recorded in the log): its
// own `tz` when ICU knows it, else "region:GB" for every zone of its number's country (libphonenumber gives
// the country; ICU the country's zones), else `fallback_region`'s. expand_zones() lists them. A window
// (CampaignPolicy's from/to minutes and weekdays) holds at an instant when it holds in EVERY one of those
// zones: a number of a country with several zones and no `tz` is called only when it is within the hours
// everywhere in that country. next_opening() is the first instant >= `at` when it holds (`at` itself when it
// already does); a window that never holds in all zones at once gives the opening of the first zone instead
// of waiting for ever. appointment_words() formats an ISO-8601 time
// ("2026-12-08T14:30:00Z", "...+01:00", or local "2026-12-08 14:30") in the callee's first zone:
// {"Tuesday 8 December", "14:30"}; empty strings when it does not parse.
//
// Debian's libphonenumber 8.12 ships no C++ time-zone mapper (only Java's), hence country + ICU, which
// libphonenumber already links.
//
// Thread-safety: pure functions over ICU's immutable zone data; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "projections/campaign_row.hpp"

namespace voxlog {

bool is_known_time_zone(const std::string& tz);
std::vector<std::string> zones_for(const std::string& tz, const std::string& e164,
                                   const std::string& fallback_region);

std::vector<std::string> expand_zones(const std::vector<std::string>& zones);

bool in_window(const CampaignPolicy& policy, const std::vector<std::string>& zones, std::int64_t at_ms);
std::int64_t next_opening(const CampaignPolicy& policy, const std::vector<std::string>& zones,
                          std::int64_t at_ms);

std::pair<std::string, std::string> appointment_words(const std::string& iso, const std::string& zone);

}  // namespace voxlog
