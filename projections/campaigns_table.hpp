// CampaignsTable: the campaigns projection and the do-not-call list, kept in the calls view's LMDB
// environment (same transactions, same checkpoint: calls_view.hpp).
//
// Contract: owned by CallsView, which hands it every event it stages. Events of campaign-<id> streams are
// folded with apply() from campaign_row.hpp into DBIs `campaigns` (id -> CampaignRow JSON) and `contacts`
// (id, 0x00, index u32 BE -> ContactRow JSON) with `waiting` (id, 0x00, next_at u64 BE, index u32 BE -> "":
// the contacts waiting their turn, earliest first, so the next action's time is one lookup); DncAdded /
// DncRemoved (stream "dnc") and OptOutRequested (a call's stream) keep DBI `dnc` (E.164 -> {since, by,
// source}). Reads take a read transaction of their own and see the last commit.
//
// Thread-safety: stage() and the changed-list on the projection actor's thread only (like CallsView::stage);
// the readers from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <lmdb.h>

#include "eventstore/event.hpp"
#include "projections/campaign_row.hpp"

namespace voxlog {

struct ContactFilter {
  std::string state;        // "" for every state
  std::uint32_t after = 0;  // cursor: contacts with index >= after
  std::size_t limit = 100;
};

// A contact list (the `lists` DBI: id -> JSON); its contacts stay in its stream.
struct ListRow {
  std::string id;
  std::string name;
  std::string by;
  std::uint64_t contacts = 0;
  std::uint64_t rejected = 0;
  std::int64_t created_ms = 0;
  std::uint64_t last_seq = 0;  // of its stream's last event
};

struct DncEntry {
  std::string phone;
  std::int64_t since_ms = 0;
  std::string by;
  std::string source;  // api, csv, keypress
};

class CampaignsTable {
 public:
  // Opens (creating) the DBIs in `txn`, a write transaction of `env`.
  void open(MDB_txn* txn);

  // Folds one event into `txn` (the view's open write transaction); events of other streams are ignored.
  void stage(MDB_txn* txn, const Event& event);
  // Writes what stage() folded into `txn`.
  void flush(MDB_txn* txn);
  // Forgets what was staged (the transaction was aborted).
  void drop_staged();

  std::optional<CampaignRow> find(MDB_txn* txn, const std::string& id) const;
  std::vector<CampaignRow> list(MDB_txn* txn) const;  // newest first
  std::vector<ContactRow> contacts(MDB_txn* txn, const std::string& id, const ContactFilter& filter) const;
  // Every contact of a campaign in index order; stops when fn returns false.
  void for_each_contact(MDB_txn* txn, const std::string& id,
                        const std::function<bool(const ContactRow&)>& fn) const;
  std::optional<DncEntry> dnc_find(MDB_txn* txn, const std::string& phone) const;
  std::vector<DncEntry> dnc_list(MDB_txn* txn) const;
  // The earliest next_at of a contact waiting its turn (pending, deferred, retry scheduled): 0 for "now",
  // nullopt when none waits.
  std::optional<std::int64_t> next_action(MDB_txn* txn, const std::string& id) const;
  std::optional<ListRow> find_list(MDB_txn* txn, const std::string& id) const;  // nullopt once deleted
  std::vector<ListRow> lists(MDB_txn* txn) const;                               // newest first

  // The DBIs, in dump order.
  std::vector<MDB_dbi> dbis() const { return {campaigns_, contacts_, waiting_, dnc_, lists_}; }

 private:
  CampaignRow& campaign(MDB_txn* txn, const std::string& id);
  ContactRow& contact(MDB_txn* txn, const std::string& id, std::uint32_t index);

  MDB_dbi campaigns_ = 0, contacts_ = 0, waiting_ = 0, dnc_ = 0, lists_ = 0;
  // What the open transaction changed, written by flush().
  std::map<std::string, CampaignRow> dirty_campaigns_;
  std::map<std::pair<std::string, std::uint32_t>, ContactRow> dirty_contacts_;
  std::map<std::string, std::optional<DncEntry>> dirty_dnc_;   // nullopt: removed
  std::map<std::string, bool> dirty_waiting_;                  // `waiting` key -> present
  std::map<std::string, std::optional<ListRow>> dirty_lists_;  // nullopt: deleted
};

}  // namespace voxlog
