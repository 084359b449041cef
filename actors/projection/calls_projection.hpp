// The calls view's projection: what the projection actor (projection.hpp) does with each commit of the log
// for the calls view (the calls table, the campaigns, the do-not-call list, contact lists).
//
// Contract: stages the events in the CallsView and publishes each one at once to the broadcaster as a
// Change, with the call's row for a call's event: the events are durable in the log, so subscribers need
// not wait for the view's own commit (a failed view write drops what was staged, the catch-up publishes
// it again, and the broadcaster drops the seqs a client already has). The events are read in place from
// the committed batches, shared with the store's other subscribers, and handed on the same way: no event
// is copied. A live row that names a campaign (batchId) also goes to `on_campaign_call` (not during the
// catch-up at start: the campaign actors read the view then), and every live event of a campaign's stream
// to `on_campaign_event` (a campaign created or controlled on another node sharing the log).
//
// Thread-safety: the projection actor's thread only; the sinks run there and must not block.
#pragma once

#include <functional>

#include "actors/broadcaster.hpp"
#include "actors/projection/projection.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

class CallsProjection : public Projection {
 public:
  using CampaignCallSink = std::function<void(const CallRow&)>;
  using CampaignEventSink = std::function<void(const Event&)>;
  CallsProjection(CallsView& view, broadcaster_actor broadcaster, CampaignCallSink on_campaign_call = {},
                  CampaignEventSink on_campaign_event = {})
      : view_(view),
        broadcaster_(std::move(broadcaster)),
        on_campaign_call_(std::move(on_campaign_call)),
        on_campaign_event_(std::move(on_campaign_event)) {}

  const char* name() const override { return "calls view"; }
  std::uint64_t staged_through() const override { return view_.staged_through(); }
  bool has_staged() const override { return view_.has_staged(); }
  Status apply(const std::vector<CommittedBatch>& commits, bool live) override;
  Status commit() override { return view_.commit(); }

 private:
  CallsView& view_;
  broadcaster_actor broadcaster_;
  CampaignCallSink on_campaign_call_;
  CampaignEventSink on_campaign_event_;
};

}  // namespace voxlog
