// The campaign's rules, apart from the actor that applies them: what an ended attempt means for the contact,
// and what a contact whose turn has come gets. Pure, so that unit tests can drive them with any clock.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "eventstore/event.hpp"
#include "eventstore/status.hpp"
#include "projections/campaign_row.hpp"

namespace voxlog {

struct AttemptVerdict {
  std::string result;         // the contact's state after the attempt (a final state or retry_scheduled)
  std::int64_t retry_at = 0;  // campaign time of the next attempt, when result is retry_scheduled
};

// An attempt that reached Twilio ended with `status` (Twilio's final CallStatus, or "unknown") and
// `outcome` (the call row's: confirmed, cancelled, voicemail, opted-out, busy, no-answer, failed, canceled,
// machine, or empty for an answered call where nobody chose). Retries only what the policy names, while
// attempts remain; never after an outcome the callee chose.
AttemptVerdict judge_attempt(const CampaignPolicy& policy, int attempts_so_far, const std::string& status,
                             const std::string& outcome, std::int64_t now_ms);

// What a contact whose time has come gets now.
struct TurnDecision {
  enum class Kind { dial, skip, defer } kind = Kind::dial;
  std::string reason;
  std::int64_t until = 0;
};
TurnDecision decide_turn(const CampaignPolicy& policy, const ContactRow& contact, bool on_do_not_call,
                         std::int64_t now_ms);

// What staff ask of a running campaign.
enum class CampaignControl { pause, resume, cancel };
// The event that records `what` by `by` on `campaign` (CampaignPaused, CampaignResumed, CampaignCancelled);
// nullopt when it changes nothing (pausing a paused campaign, resuming a running one); conflict when the
// campaign is over. The one rule, whether the campaign's actor or another node applies it.
Result<std::optional<NewEvent>> decide_control(const CampaignRow& campaign, CampaignControl what,
                                               const std::string& by);

// What Studio's execution Context says of its call: the call widget's last CallStatus (an answered call
// that ended reads "completed") and the keys pressed; empty when it does not say.
struct StudioReport {
  std::string call_status, digits;
};
StudioReport report_of(const nlohmann::json& context);

// The Parameters a contact's execution gets: its columns, the appointment in its own words
// (appointment_day, appointment_time, in its first time zone), campaign_id and attempt.
nlohmann::json call_parameters(const std::string& campaign_id, const ContactRow& contact, int attempt);

}  // namespace voxlog
