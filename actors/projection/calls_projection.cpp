#include "actors/projection/calls_projection.hpp"

#include "projections/event_types.hpp"

namespace voxlog {

Status CallsProjection::apply(const std::vector<CommittedBatch>& commits, bool live) {
  std::uint64_t staged = view_.staged_through();
  std::vector<const Event*> events;
  for (const auto& commit : commits) {
    for (const Event& e : *commit) events.push_back(&e);
  }
  auto changed = view_.stage(events);
  if (!changed) return changed.status();
  auto batch = std::make_shared<std::vector<Change>>();
  batch->reserve(events.size());
  std::size_t next_row = 0;
  for (const auto& commit : commits) {
    for (std::size_t i = 0; i < commit->size(); ++i) {
      std::uint64_t seq = (*commit)[i].seq;
      if (seq <= staged) continue;
      std::optional<CallRow> row;
      if (next_row < changed->size() && (*changed)[next_row].first == seq)
        row = std::move((*changed)[next_row++].second);
      if (row && live && on_campaign_call_ && !row->batch_id.empty()) on_campaign_call_(*row);
      if (live && on_campaign_event_ && (*commit)[i].stream.rfind(stream_prefix::campaign, 0) == 0)
        on_campaign_event_((*commit)[i]);
      batch->emplace_back(commit, i, std::move(row));
    }
  }
  if (!batch->empty()) caf::anon_send(broadcaster_, publish_atom::value, ChangeBatch(std::move(batch)));
  return Status::ok();
}

}  // namespace voxlog
