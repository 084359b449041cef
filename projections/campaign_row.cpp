#include "projections/campaign_row.hpp"

#include <algorithm>

#include "eventstore/json_fields.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

using nlohmann::json;
namespace t = event_type;
namespace cs = contact_state;

std::int64_t int_field(const json& j, const char* key, std::int64_t fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<std::int64_t>() : fallback;
}

void set_state(CampaignRow& campaign, ContactRow& contact, const std::string& state) {
  if (contact.state == state) return;
  auto old = campaign.counts.find(contact.state);
  if (old != campaign.counts.end() && old->second > 0 && --old->second == 0) campaign.counts.erase(old);
  ++campaign.counts[state];
  contact.state = state;
}

void apply_to_contact(CampaignRow& campaign, ContactRow& c, const Event& e) {
  const json& d = e.data;
  c.updated_ms = e.ts;
  if (e.type == t::call_queued) {
    c.attempts = static_cast<int>(int_field(d, "attempt", c.attempts + 1));
    c.request_id = string_field(d, "request_id");
    c.execution_sid.clear();
    c.reason.clear();
    c.next_at_ms = 0;
    if (!c.first_call_ms) c.first_call_ms = e.ts;
    c.last_call_ms = e.ts;
    set_state(campaign, c, cs::in_flight);
  } else if (e.type == t::call_placed) {
    c.execution_sid = string_field(d, "execution_sid");
  } else if (e.type == t::call_deferred) {
    c.next_at_ms = int_field(d, "until");
    c.reason = string_field(d, "reason");
    set_state(campaign, c, cs::deferred);
  } else if (e.type == t::retry_scheduled) {
    c.next_at_ms = int_field(d, "at");
    c.reason = "retry " + std::to_string(int_field(d, "attempt")) + " of " +
               std::to_string(campaign_policy_from_json(campaign.policy).max_attempts);
    set_state(campaign, c, cs::retry_scheduled);
  } else if (e.type == t::attempt_ended) {
    c.last_status = string_field(d, "status");
    c.outcome = string_field(d, "outcome");
    c.digits = string_field(d, "digits");
    if (!string_field(d, "execution_sid").empty()) c.execution_sid = string_field(d, "execution_sid");
    std::string result = string_field(d, "result");
    c.reason = string_field(d, "reason");
    if (result == cs::pending) c.attempts = std::max(0, c.attempts - 1);  // that attempt never rang
    set_state(campaign, c, result.empty() ? std::string(cs::no_outcome) : result);
  } else if (e.type == t::contact_skipped) {
    c.reason = string_field(d, "reason");
    c.next_at_ms = 0;
    set_state(campaign, c, cs::skipped);
  }
}

void add_contacts(CampaignRow& campaign, const Event& e,
                  const std::function<ContactRow&(std::uint32_t)>& contact) {
  auto first = static_cast<std::uint32_t>(int_field(e.data, "first"));
  auto list = e.data.find("contacts");
  if (list == e.data.end() || !list->is_array()) return;
  std::uint32_t i = first;
  for (const json& j : *list) {
    ContactRow& c = contact(i);
    c = ContactRow{};
    c.index = i++;
    c.phone = string_field(j, "phone");
    if (auto z = j.find("zones"); z != j.end() && z->is_array())
      for (const json& zone : *z)
        if (zone.is_string()) c.zones.push_back(zone.get<std::string>());
    if (auto f = j.find("fields"); f != j.end() && f->is_object()) c.fields = *f;
    c.updated_ms = e.ts;
    ++campaign.counts[cs::pending];
  }
}

}  // namespace

bool CampaignPolicy::retries_on(const std::string& status) const {
  return std::find(retry_on.begin(), retry_on.end(), status) != retry_on.end();
}

json to_json(const CampaignPolicy& p) {
  json j = {{"max_attempts", p.max_attempts},
            {"retry_spacing_s", p.retry_spacing_s},
            {"retry_on", p.retry_on},
            {"start_at", p.start_at_ms ? json(p.start_at_ms) : json(nullptr)},
            {"cps", p.cps}};
  if (p.has_window()) {
    json days = json::array();
    for (int d = 0; d < 7; ++d)
      if (p.window_days & (1u << d)) days.push_back(d + 1);  // ISO weekday: 1 Monday .. 7 Sunday
    j["window"] = {{"from_min", p.window_from_min}, {"to_min", p.window_to_min}, {"days", days}};
  } else {
    j["window"] = nullptr;
  }
  return j;
}

CampaignPolicy campaign_policy_from_json(const json& j) {
  CampaignPolicy p;
  if (!j.is_object()) return p;
  p.max_attempts = static_cast<int>(int_field(j, "max_attempts", 1));
  p.retry_spacing_s = int_field(j, "retry_spacing_s", p.retry_spacing_s);
  if (auto on = j.find("retry_on"); on != j.end() && on->is_array()) {
    p.retry_on.clear();
    for (const json& s : *on)
      if (s.is_string()) p.retry_on.push_back(s.get<std::string>());
  }
  p.start_at_ms = int_field(j, "start_at");
  if (auto c = j.find("cps"); c != j.end() && c->is_number()) p.cps = c->get<double>();
  if (auto w = j.find("window"); w != j.end() && w->is_object()) {
    p.window_from_min = static_cast<int>(int_field(*w, "from_min", -1));
    p.window_to_min = static_cast<int>(int_field(*w, "to_min", -1));
    p.window_days = 0;
    if (auto days = w->find("days"); days != w->end() && days->is_array())
      for (const json& d : *days)
        if (d.is_number_integer() && d.get<int>() >= 1 && d.get<int>() <= 7)
          p.window_days |= 1u << (d.get<int>() - 1);
  }
  return p;
}

const std::vector<std::string>& contact_states() {
  static const std::vector<std::string> states = {
      cs::pending,   cs::deferred,  cs::in_flight,  cs::retry_scheduled, cs::confirmed, cs::cancelled,
      cs::voicemail, cs::opted_out, cs::no_outcome, cs::unreachable,     cs::skipped};
  return states;
}

bool is_final_contact_state(const std::string& s) {
  return s == cs::confirmed || s == cs::cancelled || s == cs::voicemail || s == cs::opted_out ||
         s == cs::no_outcome || s == cs::unreachable || s == cs::skipped;
}

bool CampaignRow::all_final() const {
  for (const auto& [state, n] : counts)
    if (n > 0 && !is_final_contact_state(state)) return false;
  return true;
}

std::int64_t contact_index(const Event& e) {
  auto it = e.data.find("i");
  return it != e.data.end() && it->is_number_integer() && it->get<std::int64_t>() >= 0
             ? it->get<std::int64_t>()
             : -1;
}

void apply(CampaignRow& campaign, const Event& e, const std::function<ContactRow&(std::uint32_t)>& contact) {
  const json& d = e.data;
  campaign.updated_ms = e.ts;
  campaign.last_seq = e.seq;
  campaign.version = e.version;
  if (e.type == t::campaign_created) {
    campaign.id = string_field(d, "campaign_id");
    campaign.name = string_field(d, "name");
    campaign.source = string_field(d, "source");
    campaign.by = string_field(d, "by");
    campaign.account = string_field(d, "account");
    campaign.region = string_field(d, "region");
    campaign.policy = d.value("policy", json::object());
    campaign.total_rows = static_cast<std::uint64_t>(int_field(d, "total_rows"));
    campaign.contacts = static_cast<std::uint64_t>(int_field(d, "accepted"));
    campaign.rejected = static_cast<std::uint64_t>(int_field(d, "rejected"));
    campaign.created_ms = e.ts;
    campaign.waiting_for_start = d.value("scheduled", false);
    campaign.state = campaign.waiting_for_start ? "scheduled" : "running";
  } else if (e.type == t::contacts_added) {
    add_contacts(campaign, e, contact);
  } else if (e.type == t::campaign_paused) {
    if (!campaign.is_over()) campaign.state = "paused";
    campaign.reason = string_field(d, "reason");
  } else if (e.type == t::campaign_resumed) {
    if (!campaign.is_over()) campaign.state = campaign.waiting_for_start ? "scheduled" : "running";
    campaign.reason.clear();
  } else if (e.type == t::campaign_cancelled) {
    campaign.state = "cancelled";
    campaign.finished_ms = e.ts;
  } else if (e.type == t::campaign_completed) {
    campaign.state = "completed";
    campaign.finished_ms = e.ts;
  } else if (std::int64_t i = contact_index(e); i >= 0) {
    campaign.waiting_for_start = false;
    if (campaign.state == "scheduled") campaign.state = "running";
    apply_to_contact(campaign, contact(static_cast<std::uint32_t>(i)), e);
  }
}

json to_json(const CampaignRow& r) {
  json counts = json::object();
  for (const std::string& state : contact_states()) {
    auto it = r.counts.find(state);
    counts[state] = it == r.counts.end() ? 0 : it->second;
  }
  return {{"id", r.id},
          {"name", r.name},
          {"source", r.source},
          {"by", string_or_null(r.by)},
          {"account", string_or_null(r.account)},
          {"region", string_or_null(r.region)},
          {"state", r.state},
          {"reason", string_or_null(r.reason)},
          {"waitingForStart", r.waiting_for_start},
          {"policy", r.policy},
          {"totalRows", r.total_rows},
          {"contacts", r.contacts},
          {"rejected", r.rejected},
          {"counts", counts},
          {"createdAt", r.created_ms},
          {"updatedAt", r.updated_ms},
          {"finishedAt", r.finished_ms ? json(r.finished_ms) : json(nullptr)},
          {"lastSeq", r.last_seq},
          {"version", r.version}};
}

CampaignRow campaign_row_from_json(const json& j) {
  CampaignRow r;
  r.id = string_field(j, "id");
  r.name = string_field(j, "name");
  r.source = string_field(j, "source");
  r.by = string_field(j, "by");
  r.account = string_field(j, "account");
  r.region = string_field(j, "region");
  r.state = string_field(j, "state");
  r.reason = string_field(j, "reason");
  r.waiting_for_start = j.value("waitingForStart", false);
  r.policy = j.value("policy", json::object());
  r.total_rows = static_cast<std::uint64_t>(int_field(j, "totalRows"));
  r.contacts = static_cast<std::uint64_t>(int_field(j, "contacts"));
  r.rejected = static_cast<std::uint64_t>(int_field(j, "rejected"));
  if (auto c = j.find("counts"); c != j.end() && c->is_object())
    for (const auto& [state, n] : c->items())
      if (n.is_number_integer() && n.get<std::int64_t>() > 0) r.counts[state] = n.get<std::uint64_t>();
  r.created_ms = int_field(j, "createdAt");
  r.updated_ms = int_field(j, "updatedAt");
  r.finished_ms = int_field(j, "finishedAt");
  r.last_seq = static_cast<std::uint64_t>(int_field(j, "lastSeq"));
  r.version = static_cast<std::uint64_t>(int_field(j, "version"));
  return r;
}

json to_json(const ContactRow& c) {
  return {{"index", c.index},
          {"phone", c.phone},
          {"zones", c.zones},
          {"fields", c.fields},
          {"state", c.state},
          {"reason", string_or_null(c.reason)},
          {"nextAt", c.next_at_ms ? json(c.next_at_ms) : json(nullptr)},
          {"attempts", c.attempts},
          {"requestId", string_or_null(c.request_id)},
          {"executionSid", string_or_null(c.execution_sid)},
          {"lastStatus", string_or_null(c.last_status)},
          {"outcome", string_or_null(c.outcome)},
          {"digits", string_or_null(c.digits)},
          {"firstCallAt", c.first_call_ms ? json(c.first_call_ms) : json(nullptr)},
          {"lastCallAt", c.last_call_ms ? json(c.last_call_ms) : json(nullptr)},
          {"updatedAt", c.updated_ms}};
}

ContactRow contact_row_from_json(const json& j) {
  ContactRow c;
  c.index = static_cast<std::uint32_t>(int_field(j, "index"));
  c.phone = string_field(j, "phone");
  if (auto z = j.find("zones"); z != j.end() && z->is_array())
    for (const json& zone : *z)
      if (zone.is_string()) c.zones.push_back(zone.get<std::string>());
  c.fields = j.value("fields", json::object());
  c.state = string_field(j, "state");
  c.reason = string_field(j, "reason");
  c.next_at_ms = int_field(j, "nextAt");
  c.attempts = static_cast<int>(int_field(j, "attempts"));
  c.request_id = string_field(j, "requestId");
  c.execution_sid = string_field(j, "executionSid");
  c.last_status = string_field(j, "lastStatus");
  c.outcome = string_field(j, "outcome");
  c.digits = string_field(j, "digits");
  c.first_call_ms = int_field(j, "firstCallAt");
  c.last_call_ms = int_field(j, "lastCallAt");
  c.updated_ms = int_field(j, "updatedAt");
  return c;
}

}  // namespace voxlog
