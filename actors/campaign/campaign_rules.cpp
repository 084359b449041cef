#include "actors/campaign/campaign_rules.hpp"

#include "actors/campaign/calling_window.hpp"
#include "eventstore/json_fields.hpp"
#include "projections/event_types.hpp"

namespace voxlog {

namespace cs = contact_state;

AttemptVerdict judge_attempt(const CampaignPolicy& policy, int attempts_so_far, const std::string& status,
                             const std::string& outcome, std::int64_t now_ms) {
  if (outcome == "confirmed") return {cs::confirmed};
  if (outcome == "cancelled") return {cs::cancelled};
  if (outcome == "voicemail") return {cs::voicemail};
  if (outcome == "opted-out") return {cs::opted_out};
  // What kind of "nobody chose" it was: the outcome when the row has one (busy, machine, ...), else the
  // status; an answered call where no key was pressed is "no-outcome".
  std::string why = !outcome.empty()                          ? outcome
                    : status == "completed" || status.empty() ? "no-outcome"
                                                              : status;
  bool unreachable = why == "busy" || why == "no-answer" || why == "failed" || why == "canceled";
  if (policy.retries_on(why) && attempts_so_far < policy.max_attempts)
    return {cs::retry_scheduled, now_ms + policy.retry_spacing_s * 1000};
  return {unreachable ? cs::unreachable : cs::no_outcome};
}

TurnDecision decide_turn(const CampaignPolicy& policy, const ContactRow& contact, bool on_do_not_call,
                         std::int64_t now_ms) {
  if (on_do_not_call) return {TurnDecision::Kind::skip, "do_not_call"};
  if (!in_window(policy, contact.zones, now_ms))
    return {TurnDecision::Kind::defer, "window", next_opening(policy, contact.zones, now_ms)};
  return {};
}

nlohmann::json call_parameters(const std::string& campaign_id, const ContactRow& contact, int attempt) {
  nlohmann::json p = nlohmann::json::object();
  for (const auto& [key, value] : contact.fields.items())
    if (value.is_string()) p[key] = value;
  const std::string& at = string_field(contact.fields, "appointment_at");
  if (!at.empty()) {
    auto zones = expand_zones(contact.zones);
    auto [day, time] = appointment_words(at, zones.front());
    if (!day.empty()) {
      p["appointment_day"] = day;
      p["appointment_time"] = time;
    }
  }
  p["campaign_id"] = campaign_id;
  p["attempt"] = std::to_string(attempt);
  return p;
}

Result<std::optional<NewEvent>> decide_control(const CampaignRow& campaign, CampaignControl what,
                                               const std::string& by) {
  namespace t = event_type;
  if (campaign.is_over()) return conflict("campaign '" + campaign.id + "' is " + campaign.state);
  switch (what) {
    case CampaignControl::pause:
      if (campaign.state == "paused") return std::optional<NewEvent>();
      return std::optional<NewEvent>(NewEvent(t::campaign_paused, {{"by", by}}));
    case CampaignControl::resume:
      if (campaign.state != "paused") return std::optional<NewEvent>();
      return std::optional<NewEvent>(NewEvent(t::campaign_resumed, {{"by", by}}));
    case CampaignControl::cancel:
      return std::optional<NewEvent>(NewEvent(t::campaign_cancelled, {{"by", by}}));
  }
  return invalid_argument("unknown campaign control");
}

StudioReport report_of(const nlohmann::json& context) {
  StudioReport report;
  if (!context.is_object() || !context.contains("widgets") || !context["widgets"].is_object()) return report;
  for (const auto& [name, outputs] : context["widgets"].items()) {
    if (!outputs.is_object()) continue;
    if (!string_field(outputs, "CallStatus").empty())
      report.call_status = string_field(outputs, "CallStatus");
    if (!string_field(outputs, "Digits").empty()) report.digits = string_field(outputs, "Digits");
  }
  // The call widget's status is taken when the call is answered: an answered call that ended is completed.
  if (report.call_status == "in-progress" || report.call_status == "answered")
    report.call_status = "completed";
  return report;
}

}  // namespace voxlog
