// What both log backends do with an append before their writer sees it, and what their writer hands
// their publisher: the request checked and its data serialised on the caller's thread (PendingAppend),
// and a batch's outcome (WrittenBatch).
//
// Contract: private to eventstore/. prepare_append() never fails: a request it refuses carries the
// reason in `precheck`, and the backend answers it in order with the rest (every answer comes from the
// publisher thread).
//
// Thread-safety: plain values and a pure function.
#pragma once

#include <vector>

#include "eventstore/status.hpp"
#include "eventstore/store.hpp"

namespace voxlog {

struct PendingAppend {
  AppendRequest request;
  std::vector<std::string> data_json;  // one per event, serialised on the caller's thread
  Status precheck;                     // not ok: answered with this, nothing written
  EventStore::AppendCallback done;
};

// A batch on its way from the writer to the publisher thread: committed, or failed as a whole.
struct WrittenBatch {
  std::vector<PendingAppend> requests;
  std::vector<Result<AppendResult>> answers;  // one per request
  bool committed = false;
  CommitInfo info;
};

// invalid_argument naming the first field that a store cannot take (empty stream, bad UTF-8, too long).
Status validate_request(const AppendRequest& r);

// The conflict a writer answers when `r` expected another version than the stream's `version`.
Status version_conflict(const AppendRequest& r, std::uint64_t version);

// Stamps ts (now, when 0), validates, and serialises each event's data (or takes its data_json).
PendingAppend prepare_append(AppendRequest request, EventStore::AppendCallback done);

}  // namespace voxlog
