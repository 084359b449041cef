// CampaignRow and ContactRow: a campaign and each of its contacts, and the fold that builds them from the
// campaign's stream (campaign-<id>).
//
// Contract: `apply(campaign, event, contact)` is THE definition of what a campaign's events mean. The
// campaigns projection (calls_view), `voxlog replay` and the campaign actors all fold with it, so what the
// dashboard shows is what the actor decides on, and a rebuilt view equals the live one byte for byte. It is
// pure: times come from the events (their `ts` and the times they record), never from the clock.
//
// The events (data fields; `i` is the contact's index, `phone` its E.164 number):
//   CampaignCreated  {campaign_id, name, source ("api"|"csv"|"start-bulk"), by, policy (CampaignPolicy JSON),
//                     scheduled (start_at is later),
//                     total_rows, accepted, rejected,
//                     account, region? (the Twilio account every call goes through; absent before there were
//                     several: the default account)}
//   ContactsAdded    {first, contacts: [{phone, zones: [tz...], fields: {column: text}}]}  (chunks)
//   ContactsRejected {rows: [{row, phone, reason}]}                                       (chunks)
//   CallQueued       {i, phone, attempt, request_id}      the contact is being dialled (attempt 1, 2, ...)
//   CallPlaced       {i, phone, attempt, request_id, execution_sid, recovered?}
//   CallDeferred     {i, phone, until (epoch ms), reason} it waits: "window", "in_flight", "twilio", ...
//   RetryScheduled   {i, phone, attempt (the next one), at (epoch ms)}
//   AttemptEnded     {i, phone, attempt, execution_sid?, status, outcome, digits, result}: `result` is the
//                    contact's state after it: a final state, or "retry_scheduled" (RetryScheduled follows
//                    in the same append) or "pending" (asked again: nobody was called for that attempt)
//   ContactSkipped   {i, phone, reason}                   "do_not_call", ...
//   CampaignPaused / CampaignResumed / CampaignCancelled {by, reason?}
//   CampaignCompleted {counts, and for start-bulk the Node app's {batch_id, total, success, failed, results,
//                     errors}}
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eventstore/event.hpp"

namespace voxlog {

// What a campaign was told to do, as recorded in CampaignCreated.policy.
struct CampaignPolicy {
  int max_attempts = 1;  // attempts per contact, the first included
  std::int64_t retry_spacing_s = 1800;
  std::vector<std::string> retry_on = {"busy", "no-answer", "failed"};
  int window_from_min = -1;  // minutes after local midnight; -1: no window
  int window_to_min = -1;
  unsigned window_days = 0x7f;   // bit 0 Monday .. bit 6 Sunday
  std::int64_t start_at_ms = 0;  // 0: at once
  double cps = 1;                // calls per second, at most 20 (Studio's limit)

  bool has_window() const { return window_from_min >= 0; }
  bool retries_on(const std::string& status) const;
};
nlohmann::json to_json(const CampaignPolicy& policy);
CampaignPolicy campaign_policy_from_json(const nlohmann::json& j);

// The states a contact moves through, the keys of CampaignRow::counts.
namespace contact_state {
inline constexpr const char* pending = "pending";
inline constexpr const char* deferred = "deferred";
inline constexpr const char* in_flight = "in_flight";
inline constexpr const char* retry_scheduled = "retry_scheduled";
inline constexpr const char* confirmed = "confirmed";
inline constexpr const char* cancelled = "cancelled";
inline constexpr const char* voicemail = "voicemail";
inline constexpr const char* opted_out = "opted_out";
inline constexpr const char* no_outcome = "no_outcome";
inline constexpr const char* unreachable = "unreachable";
inline constexpr const char* skipped = "skipped";
}  // namespace contact_state
const std::vector<std::string>& contact_states();  // every state, in the order above
bool is_final_contact_state(const std::string& state);

struct ContactRow {
  std::uint32_t index = 0;
  std::string phone;
  std::vector<std::string> zones;  // the callee's time zone(s): the contact's tz, else its country's
  nlohmann::json fields = nlohmann::json::object();  // its other columns, as text
  std::string state = contact_state::pending;
  std::string reason;           // why it waits, or why it was skipped
  std::int64_t next_at_ms = 0;  // deferred until / retry at (0: now)
  int attempts = 0;             // attempts begun
  std::string request_id;       // of the attempt under way or last
  std::string execution_sid;    // likewise
  std::string last_status;      // Twilio's final status of the last attempt
  std::string outcome;          // of the last attempt: confirmed, cancelled, voicemail, opted-out, busy, ...
  std::string digits;           // keys pressed in the last attempt
  std::int64_t first_call_ms = 0;
  std::int64_t last_call_ms = 0;
  std::int64_t updated_ms = 0;
};

struct CampaignRow {
  std::string id;
  std::string name;
  std::string source;
  std::string by;
  std::string account;  // the Twilio account of its calls (TwilioAccount::name); empty: the default one
  std::string region;   // that account's region when it was created, if it had one
  std::string state = "running";   // scheduled, running, paused, cancelled, completed
  std::string reason;              // of the last pause, when the server paused it
  bool waiting_for_start = false;  // created with a later start_at, and nobody's turn has come yet
  nlohmann::json policy = nlohmann::json::object();
  std::uint64_t total_rows = 0;
  std::uint64_t contacts = 0;  // accepted
  std::uint64_t rejected = 0;
  std::map<std::string, std::uint64_t> counts;  // contact state -> contacts in it
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t finished_ms = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t version = 0;

  bool is_over() const { return state == "cancelled" || state == "completed"; }
  // Every contact is in a final state (the campaign is due its CampaignCompleted).
  bool all_final() const;
};

// Which contact an event names (`i`), or -1 for events of the campaign as a whole and ContactsAdded.
std::int64_t contact_index(const Event& event);

// Folds one event of a campaign stream. `contact(i)` gives the row of contact i to update (a new,
// default row for a contact not seen yet); it is called only for the contacts the event names.
void apply(CampaignRow& campaign, const Event& event,
           const std::function<ContactRow&(std::uint32_t)>& contact);

nlohmann::json to_json(const CampaignRow& row);
CampaignRow campaign_row_from_json(const nlohmann::json& j);
nlohmann::json to_json(const ContactRow& row);
ContactRow contact_row_from_json(const nlohmann::json& j);

}  // namespace voxlog
