#include "projections/campaigns_table.hpp"

#include <algorithm>

#include <lmdb++.h>

#include "eventstore/json_fields.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

using nlohmann::json;

std::string contact_key(const std::string& id, std::uint32_t index) {
  std::string key = id;
  key += '\0';
  for (int shift = 24; shift >= 0; shift -= 8) key += static_cast<char>((index >> shift) & 0xff);
  return key;
}

std::optional<json> get_json(MDB_txn* txn, MDB_dbi dbi, const std::string& key) {
  lmdb::val k{key.data(), key.size()}, v;
  if (!lmdb::dbi_get(txn, dbi, k, v)) return std::nullopt;
  return json::parse(v.data(), v.data() + v.size());
}

void put_json(MDB_txn* txn, MDB_dbi dbi, const std::string& key, const json& value) {
  std::string text = value.dump();
  lmdb::val k{key.data(), key.size()}, v{text.data(), text.size()};
  lmdb::dbi_put(txn, dbi, k, v, 0);
}

bool waits(const ContactRow& c) {
  return c.state == contact_state::pending || c.state == contact_state::deferred ||
         c.state == contact_state::retry_scheduled;
}

std::string waiting_key(const std::string& id, const ContactRow& c) {
  std::string key = id;
  key += '\0';
  auto at = static_cast<std::uint64_t>(std::max<std::int64_t>(0, c.next_at_ms));
  for (int shift = 56; shift >= 0; shift -= 8) key += static_cast<char>((at >> shift) & 0xff);
  for (int shift = 24; shift >= 0; shift -= 8) key += static_cast<char>((c.index >> shift) & 0xff);
  return key;
}

bool is_campaign_stream(const std::string& stream) {
  return stream.rfind(stream_prefix::campaign, 0) == 0;
}

nlohmann::json list_json(const ListRow& l) {
  return {{"id", l.id},
          {"name", l.name},
          {"by", l.by},
          {"contacts", l.contacts},
          {"rejected", l.rejected},
          {"createdAt", l.created_ms},
          {"lastSeq", l.last_seq}};
}

ListRow list_from_json(const json& j) {
  ListRow l;
  l.id = string_field(j, "id");
  l.name = string_field(j, "name");
  l.by = string_field(j, "by");
  l.contacts = j.value("contacts", std::uint64_t{0});
  l.rejected = j.value("rejected", std::uint64_t{0});
  l.created_ms = j.value("createdAt", std::int64_t{0});
  l.last_seq = j.value("lastSeq", std::uint64_t{0});
  return l;
}

DncEntry dnc_from_json(const std::string& phone, const json& j) {
  return {phone, j.value("since", std::int64_t{0}), string_field(j, "by"), string_field(j, "source")};
}

}  // namespace

void CampaignsTable::open(MDB_txn* txn) {
  campaigns_ = lmdb::dbi::open(txn, "campaigns", MDB_CREATE).handle();
  contacts_ = lmdb::dbi::open(txn, "contacts", MDB_CREATE).handle();
  waiting_ = lmdb::dbi::open(txn, "waiting", MDB_CREATE).handle();
  dnc_ = lmdb::dbi::open(txn, "dnc", MDB_CREATE).handle();
  lists_ = lmdb::dbi::open(txn, "lists", MDB_CREATE).handle();
}

CampaignRow& CampaignsTable::campaign(MDB_txn* txn, const std::string& id) {
  auto it = dirty_campaigns_.find(id);
  if (it != dirty_campaigns_.end()) return it->second;
  auto stored = get_json(txn, campaigns_, id);
  return dirty_campaigns_.emplace(id, stored ? campaign_row_from_json(*stored) : CampaignRow{}).first->second;
}

ContactRow& CampaignsTable::contact(MDB_txn* txn, const std::string& id, std::uint32_t index) {
  auto key = std::make_pair(id, index);
  auto it = dirty_contacts_.find(key);
  if (it != dirty_contacts_.end()) return it->second;
  auto stored = get_json(txn, contacts_, contact_key(id, index));
  ContactRow row = stored ? contact_row_from_json(*stored) : ContactRow{};
  row.index = index;
  return dirty_contacts_.emplace(key, std::move(row)).first->second;
}

void CampaignsTable::stage(MDB_txn* txn, const Event& e) {
  if (is_campaign_stream(e.stream)) {
    std::string id = e.stream.substr(std::string(stream_prefix::campaign).size());
    CampaignRow& row = campaign(txn, id);
    // Each contact the event names, as it was before: its `waiting` entry moves with it.
    std::map<std::uint32_t, std::string> was_waiting;
    apply(row, e, [&](std::uint32_t i) -> ContactRow& {
      ContactRow& c = contact(txn, id, i);
      if (!was_waiting.count(i)) was_waiting[i] = waits(c) && !c.phone.empty() ? waiting_key(id, c) : "";
      return c;
    });
    for (const auto& [i, before] : was_waiting) {
      const ContactRow& c = contact(txn, id, i);
      std::string after = waits(c) ? waiting_key(id, c) : "";
      if (before == after) continue;
      if (!before.empty()) dirty_waiting_[before] = false;
      if (!after.empty()) dirty_waiting_[after] = true;
    }
  } else if (e.stream.rfind(stream_prefix::list, 0) == 0) {
    std::string id = e.stream.substr(std::string(stream_prefix::list).size());
    if (e.type == event_type::list_created) {
      ListRow l;
      l.id = id;
      l.name = string_field(e.data, "name");
      l.by = string_field(e.data, "by");
      l.contacts = e.data.value("accepted", std::uint64_t{0});
      l.rejected = e.data.value("rejected", std::uint64_t{0});
      l.created_ms = e.ts;
      l.last_seq = e.seq;
      dirty_lists_[id] = l;
    } else if (e.type == event_type::list_deleted) {
      dirty_lists_[id] = std::nullopt;
    } else {
      auto it = dirty_lists_.find(id);
      std::optional<ListRow> l = it != dirty_lists_.end() ? it->second : find_list(txn, id);
      if (l) {
        l->last_seq = e.seq;
        dirty_lists_[id] = l;
      }
    }
  } else if (e.type == event_type::dnc_added || e.type == event_type::opt_out_requested) {
    std::string phone = string_field(e.data, e.type == event_type::dnc_added ? "phone" : "to");
    if (phone.empty()) return;
    std::string source = e.type == event_type::dnc_added ? string_field(e.data, "source") : "keypress";
    dirty_dnc_[phone] = DncEntry{phone, e.ts, string_field(e.data, "by"), source};
  } else if (e.type == event_type::dnc_removed) {
    std::string phone = string_field(e.data, "phone");
    if (!phone.empty()) dirty_dnc_[phone] = std::nullopt;
  }
}

void CampaignsTable::flush(MDB_txn* txn) {
  for (const auto& [id, row] : dirty_campaigns_) put_json(txn, campaigns_, id, to_json(row));
  for (const auto& [key, row] : dirty_contacts_)
    put_json(txn, contacts_, contact_key(key.first, key.second), to_json(row));
  for (const auto& [id, list] : dirty_lists_) {
    lmdb::val k{id.data(), id.size()};
    if (list) {
      put_json(txn, lists_, id, list_json(*list));
    } else {
      lmdb::dbi_del(txn, lists_, k, nullptr);
    }
  }
  for (const auto& [key, present] : dirty_waiting_) {
    lmdb::val k{key.data(), key.size()}, empty{"", 0};
    if (present) {
      lmdb::dbi_put(txn, waiting_, k, empty, 0);
    } else {
      lmdb::dbi_del(txn, waiting_, k, nullptr);
    }
  }
  for (const auto& [phone, entry] : dirty_dnc_) {
    lmdb::val k{phone.data(), phone.size()};
    if (entry) {
      put_json(txn, dnc_, phone, {{"since", entry->since_ms}, {"by", entry->by}, {"source", entry->source}});
    } else {
      lmdb::dbi_del(txn, dnc_, k, nullptr);
    }
  }
  drop_staged();
}

void CampaignsTable::drop_staged() {
  dirty_campaigns_.clear();
  dirty_contacts_.clear();
  dirty_dnc_.clear();
  dirty_waiting_.clear();
  dirty_lists_.clear();
}

std::optional<ListRow> CampaignsTable::find_list(MDB_txn* txn, const std::string& id) const {
  auto stored = get_json(txn, lists_, id);
  if (!stored) return std::nullopt;
  return list_from_json(*stored);
}

std::vector<ListRow> CampaignsTable::lists(MDB_txn* txn) const {
  std::vector<ListRow> out;
  auto cursor = lmdb::cursor::open(txn, lists_);
  lmdb::val k, v;
  for (bool ok = cursor.get(k, v, MDB_FIRST); ok; ok = cursor.get(k, v, MDB_NEXT))
    out.push_back(list_from_json(json::parse(v.data(), v.data() + v.size())));
  std::sort(out.begin(), out.end(), [](const ListRow& a, const ListRow& b) {
    return a.created_ms != b.created_ms ? a.created_ms > b.created_ms : a.id > b.id;
  });
  return out;
}

std::optional<std::int64_t> CampaignsTable::next_action(MDB_txn* txn, const std::string& id) const {
  std::string start = id;
  start += '\0';
  auto cursor = lmdb::cursor::open(txn, waiting_);
  lmdb::val k{start.data(), start.size()}, v;
  if (!cursor.get(k, v, MDB_SET_RANGE) || k.size() != id.size() + 13 ||
      std::string(k.data(), id.size()) != id)
    return std::nullopt;
  auto* p = k.data<const unsigned char>() + id.size() + 1;
  std::uint64_t at = 0;
  for (int n = 0; n < 8; ++n) at = (at << 8) | p[n];
  return static_cast<std::int64_t>(at);
}

std::optional<CampaignRow> CampaignsTable::find(MDB_txn* txn, const std::string& id) const {
  auto stored = get_json(txn, campaigns_, id);
  if (!stored) return std::nullopt;
  return campaign_row_from_json(*stored);
}

std::vector<CampaignRow> CampaignsTable::list(MDB_txn* txn) const {
  std::vector<CampaignRow> rows;
  auto cursor = lmdb::cursor::open(txn, campaigns_);
  lmdb::val k, v;
  for (bool ok = cursor.get(k, v, MDB_FIRST); ok; ok = cursor.get(k, v, MDB_NEXT))
    rows.push_back(campaign_row_from_json(json::parse(v.data(), v.data() + v.size())));
  std::sort(rows.begin(), rows.end(), [](const CampaignRow& a, const CampaignRow& b) {
    return a.created_ms != b.created_ms ? a.created_ms > b.created_ms : a.id > b.id;
  });
  return rows;
}

void CampaignsTable::for_each_contact(MDB_txn* txn, const std::string& id,
                                      const std::function<bool(const ContactRow&)>& fn) const {
  std::string start = contact_key(id, 0);
  auto cursor = lmdb::cursor::open(txn, contacts_);
  lmdb::val k{start.data(), start.size()}, v;
  for (bool ok = cursor.get(k, v, MDB_SET_RANGE); ok; ok = cursor.get(k, v, MDB_NEXT)) {
    if (k.size() != id.size() + 5 || std::string(k.data(), id.size()) != id) break;
    if (!fn(contact_row_from_json(json::parse(v.data(), v.data() + v.size())))) break;
  }
}

std::vector<ContactRow> CampaignsTable::contacts(MDB_txn* txn, const std::string& id,
                                                 const ContactFilter& filter) const {
  std::vector<ContactRow> rows;
  std::string start = contact_key(id, filter.after);
  auto cursor = lmdb::cursor::open(txn, contacts_);
  lmdb::val k{start.data(), start.size()}, v;
  for (bool ok = cursor.get(k, v, MDB_SET_RANGE); ok && rows.size() < filter.limit;
       ok = cursor.get(k, v, MDB_NEXT)) {
    if (k.size() != id.size() + 5 || std::string(k.data(), id.size()) != id) break;
    ContactRow row = contact_row_from_json(json::parse(v.data(), v.data() + v.size()));
    if (!filter.state.empty() && row.state != filter.state) continue;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::optional<DncEntry> CampaignsTable::dnc_find(MDB_txn* txn, const std::string& phone) const {
  auto stored = get_json(txn, dnc_, phone);
  if (!stored) return std::nullopt;
  return dnc_from_json(phone, *stored);
}

std::vector<DncEntry> CampaignsTable::dnc_list(MDB_txn* txn) const {
  std::vector<DncEntry> out;
  auto cursor = lmdb::cursor::open(txn, dnc_);
  lmdb::val k, v;
  for (bool ok = cursor.get(k, v, MDB_FIRST); ok; ok = cursor.get(k, v, MDB_NEXT))
    out.push_back(dnc_from_json(std::string(k.data(), k.size()), json::parse(v.data(), v.data() + v.size())));
  return out;
}

}  // namespace voxlog
