// Turning what a user sends (JSON or CSV with query options) into a campaign: its policy, its contacts,
// and the rows refused with the reason, then into the events that create it.
//
// Contract: import_json() and import_csv() validate everything before anything is recorded: a bad option
// is invalid_argument naming it (nothing is created); a bad row is not an error but a RejectedRow (its
// row number, what it held, why: an invalid number, a duplicate of an earlier row, no phone). Rows are
// numbered as a spreadsheet shows them: in CSV the header is row 1, in JSON the first contact is row 1.
// Numbers are normalised to E.164 with ImportDefaults::default_region; each contact's time zones are
// resolved once, here (calling_window.hpp), and recorded. More than `max_contacts` rows is
// invalid_argument. creation_events() gives CampaignCreated, then ContactsAdded and ContactsRejected in
// chunks (an event stays small however big the campaign).
//
// Thread-safety: pure functions (but for libphonenumber's and ICU's thread-safe singletons).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "eventstore/event.hpp"
#include "eventstore/status.hpp"
#include "projections/campaign_row.hpp"

namespace voxlog {

struct ImportDefaults {
  std::string default_region = "GB";
  double default_cps = 1;
  std::size_t max_contacts = 200000;
  std::int64_t now_ms = 0;  // campaign time, for start_at
};

struct ImportedContact {
  std::string phone;
  std::vector<std::string> zones;
  nlohmann::json fields = nlohmann::json::object();
};

struct RejectedRow {
  std::size_t row = 0;
  std::string phone;  // as given
  std::string reason;
};

struct CampaignImport {
  std::string name;
  CampaignPolicy policy;
  std::vector<ImportedContact> contacts;
  std::vector<RejectedRow> rejected;
  std::size_t total_rows = 0;
  bool scheduled = false;  // start_at is later than now
  std::string account;     // the Twilio account of its calls (TwilioAccount::name), chosen by the route
  std::string region;      // that account's region, if it has one
};

Result<CampaignImport> import_json(const nlohmann::json& body, const ImportDefaults& defaults);
Result<CampaignImport> import_csv(std::string_view body, const std::map<std::string, std::string>& query,
                                  const ImportDefaults& defaults);
// The options alone (name, retry, window, start_at, cps), no contacts: for a campaign of a kept list.
Result<CampaignImport> import_options(const nlohmann::json& body, const ImportDefaults& defaults);
// From a plain list of numbers (start-bulk): no retries, no window, at the default pace.
CampaignImport import_numbers(const std::vector<std::string>& numbers, const ImportDefaults& defaults);

std::vector<NewEvent> creation_events(const std::string& campaign_id, const CampaignImport& import,
                                      const std::string& by, const std::string& source);

nlohmann::json to_json(const RejectedRow& row);

}  // namespace voxlog
