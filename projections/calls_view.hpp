// CallsView: the Call table as an LMDB projection of the log, in its own environment ($DATA_DIR/views).
//
// Contract: the view is derived data. `stage` folds committed events (in seq order, starting exactly at
// staged_through()+1) into the rows with `apply()` from call_row.hpp and stores the new checkpoint in the
// SAME write transaction, so every event is applied exactly once even across crashes. Deleting the directory
// and replaying the log gives the same bytes (`voxlog replay`). Only events of `call-` streams touch rows.
// Layout: DBIs `calls` (id u64 BE -> row JSON), `by_stream` (stream -> id), `by_sid` (execution or call
// SID -> id), `meta` (`checkpoint` u64 BE, `next_id` u64 BE, `format`), and the campaigns projection and
// do-not-call list of campaigns_table.hpp (`campaigns`, `contacts`, `dnc`).
//
// Durability: the environment is opened with MDB_NOMETASYNC (one sync per commit instead of two). A
// system crash may undo the view's last transactions but never corrupts it, and since the checkpoint
// is in the same transaction, start-up re-applies those events from the log (which is fully synced).
//
// Thread-safety: one thread stages, commits and applies (the projection actor); reads may run on any thread
// at any time and see the last commit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/event.hpp"
#include "eventstore/status.hpp"
#include "projections/call_row.hpp"
#include "projections/campaigns_table.hpp"

namespace voxlog {

struct CallFilter {
  std::string status;
  std::string outcome;
  std::string to;               // substring match on the number
  std::int64_t since_ms = 0;    // createdAt >= since
  std::uint64_t before_id = 0;  // cursor: only rows with id < before_id (0: from the newest)
  std::size_t limit = 50;
};

struct CallPage {
  std::vector<CallRow> rows;      // newest first
  std::uint64_t next_cursor = 0;  // pass as before_id for the next page; 0 when there is none
};

class CallsView {
 public:
  static Result<std::unique_ptr<CallsView>> open(const std::string& dir);
  ~CallsView();

  std::uint64_t checkpoint() const;

  // The rows changed by a batch, one per event of a call stream, in event order (the row as it was right
  // after that event), with that event's seq.
  using Changed = std::vector<std::pair<std::uint64_t, CallRow>>;

  // Applies `events` (seq order, the first must be staged_through()+1; earlier ones are skipped) to the
  // view's open write transaction, beginning one if none is open, and returns the rows changed. Readers
  // see them, and the checkpoint, only after commit(). Staging several batches and committing once is
  // how the projection actor keeps the view's disk syncs few under load. On failure the open transaction is
  // aborted (everything staged since the last commit is dropped; the log still has it).
  Result<Changed> stage(const std::vector<const Event*>& events);
  // Commits what was staged, durably (one disk sync); a no-op when nothing is.
  Status commit();
  bool has_staged() const;
  std::uint64_t staged_through() const;  // the checkpoint including what is staged

  // stage() and commit() in one (voxlog replay, tests).
  Result<Changed> apply_batch(const std::vector<Event>& events);

  std::optional<CallRow> find(const std::string& id_or_sid) const;  // numeric id, execution SID or CallSid
  std::optional<CallRow> find_by_stream(const std::string& stream) const;
  // The stream of the call an execution SID or CallSid belongs to (a miss reads one key, no row).
  std::optional<std::string> stream_of_sid(const std::string& sid) const;
  CallPage list(const CallFilter& filter) const;
  std::size_t count() const;
  // Every row, oldest first; stops when fn returns false.
  void for_each(const std::function<bool(const CallRow&)>& fn) const;

  // The campaigns projection and the do-not-call list (campaigns_table.hpp), as of the last commit.
  std::optional<CampaignRow> find_campaign(const std::string& id) const;
  std::vector<CampaignRow> list_campaigns() const;  // newest first
  std::vector<ContactRow> campaign_contacts(const std::string& id, const ContactFilter& filter) const;
  void for_each_contact(const std::string& id, const std::function<bool(const ContactRow&)>& fn) const;
  std::optional<DncEntry> dnc_find(const std::string& phone) const;
  std::vector<DncEntry> dnc_list() const;
  std::optional<std::int64_t> next_campaign_action(const std::string& id) const;
  std::optional<ListRow> find_list(const std::string& id) const;
  std::vector<ListRow> lists() const;  // CampaignsTable::next_action

  // A canonical dump of every DBI (for "rebuilt equals live" checks).
  std::string dump() const;

 private:
  struct Impl;
  explicit CallsView(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxlog
