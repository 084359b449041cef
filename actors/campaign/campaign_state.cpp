#include "actors/campaign/campaign_state.hpp"

#include "eventstore/json_fields.hpp"
#include "projections/event_types.hpp"

namespace voxlog::campaign_internal {

using nlohmann::json;
namespace t = event_type;
namespace cs = contact_state;

bool waits(const ContactRow& c) {
  return c.state == cs::pending || c.state == cs::deferred || c.state == cs::retry_scheduled;
}

namespace {

ContactRow& contact_at(State& st, std::uint32_t i) {
  if (st.contacts.size() <= i) st.contacts.resize(i + 1);
  return st.contacts[i];
}

}  // namespace

void fold(State& st, const Event& e) {
  std::int64_t i = contact_index(e);
  std::optional<std::pair<std::int64_t, std::uint32_t>> was;
  if (i >= 0 && static_cast<std::size_t>(i) < st.contacts.size() && waits(st.contacts[i]))
    was = std::make_pair(st.contacts[i].next_at_ms, static_cast<std::uint32_t>(i));
  apply(st.row, e, [&](std::uint32_t k) -> ContactRow& { return contact_at(st, k); });
  if (e.type == t::campaign_created) st.policy = campaign_policy_from_json(st.row.policy);
  if (e.type == t::contacts_added) {
    st.contacts_seq = e.seq;
    auto first = static_cast<std::uint32_t>(e.data.value("first", 0));
    for (std::uint32_t k = first; k < st.contacts.size(); ++k) {
      // The columns are read from the view when the contact is dialled: 100,000 JSON objects kept here
      // for the whole campaign would be most of its memory.
      st.contacts[k].fields = json();
      if (waits(st.contacts[k])) st.ready.emplace(st.contacts[k].next_at_ms, k);
    }
  }
  if (e.type == t::contacts_rejected)
    for (const json& r : e.data.value("rows", json::array())) st.rejected.push_back(r);
  if (e.type == t::batch_dialled) st.batch_dialled = true;
  if (i < 0) return;
  const ContactRow& c = st.contacts[static_cast<std::size_t>(i)];
  if (was) st.ready.erase(*was);
  if (waits(c)) st.ready.emplace(c.next_at_ms, static_cast<std::uint32_t>(i));
  if (!c.execution_sid.empty()) {
    if (c.state == cs::in_flight) {
      st.by_sid[c.execution_sid] = static_cast<std::uint32_t>(i);
    } else {
      st.by_sid.erase(c.execution_sid);
    }
  }
}

Status rebuild(State& st) {
  std::uint64_t from = 1;
  for (;;) {
    auto page = st.s.store->read_stream(st.stream, from, 4096);
    if (!page) return page.status();
    if (page->empty()) return Status::ok();
    for (const Event& e : *page) fold(st, e);
    from = page->back().version + 1;
  }
}

std::size_t in_flight_count(const State& st) {
  auto it = st.row.counts.find(cs::in_flight);
  return it == st.row.counts.end() ? 0 : it->second;
}

json contact_ref(const ContactRow& c, int attempt) {
  return {{"i", c.index}, {"phone", c.phone}, {"attempt", attempt}};
}

}  // namespace voxlog::campaign_internal
