// The campaign actor: one per campaign that still has work; it decides, the log remembers.
//
// Contract: spawned by Campaigns (campaigns.hpp), it rebuilds its state from its own stream
// (campaign-<id>, folded with apply() from campaign_row.hpp, like the projection) and then runs a loop
// of decisions, each recorded before it takes effect:
// - at the campaign's pace (policy.cps, real time), the next contact whose time has come is skipped
//   (ContactSkipped: on the do-not-call list), deferred (CallDeferred: outside the calling window in its
//   time zone(s), until the window opens), or queued (CallQueued) and handed to the dialer;
// - the dialer's answer is CallPlaced, or AttemptEnded (not placed: the contact waits and is asked
//   again, CallDeferred; placed but refused: a final state or a retry);
// - the call's row (sent by the calls projection through Campaigns) reaching a final status ends the attempt:
//   AttemptEnded with the outcome, and RetryScheduled when the policy retries that status and attempts
//   remain (never after an outcome, never after a 2);
// - pause / resume / cancel (CampaignPaused / CampaignResumed / CampaignCancelled); calls in flight go on
//   and their outcomes are recorded; when nothing is left, CampaignCompleted and the actor exits.
// Writes are appended with the stream's expected version (one writer per campaign); while one is under
// way the actor takes no other message (a `writing` behaviour), and a failed write is retried with
// backoff, never dropped. The dialer is asked by request/response; each answer is handed to the actor as
// a message of its own, so it too waits for the write under way (a response handler would run at once).
// Timers are re-armed from the state, so a restart resumes where the log is. After a crash, an attempt that
// was queued but not placed is checked first: its dial stream, then Studio's executions for the contact;
// nobody is dialled again for an attempt Studio already has.
//
// Thread-safety: an actor; its interface is campaign_actor below.
#pragma once

#include <chrono>
#include <string>

#include <caf/all.hpp>

#include "actors/campaign/clock.hpp"
#include "actors/dialer.hpp"
#include "eventstore/status.hpp"
#include "eventstore/store.hpp"
#include "projections/call_row.hpp"
#include "projections/calls_view.hpp"
#include "projections/campaign_row.hpp"

namespace voxlog {

using call_row_atom = caf::atom_constant<caf::atom("callrow")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using written_atom = caf::atom_constant<caf::atom("cwritten")>;

struct CampaignActorSettings {
  EventStore* store = nullptr;
  CallsView* view = nullptr;
  dialer_actor dialer;
  CampaignClock clock;
  // How often calls in flight are checked against the view and, when silent this long, against Studio.
  std::chrono::milliseconds check_interval{60000};
};

// The campaign after a control message, and whether it changed anything.
struct ControlResult {
  CampaignRow campaign;
  bool changed = false;
};
// A control's answer: the result, or conflict (the campaign is over) and the like.
using ControlOutcome = Result<ControlResult>;

// The campaign actor's interface. The actor itself is typed with this list extended by the messages it sends
// itself (its timers, the results of its own writes, the dialer's answers handed to itself: see
// campaign_actor.cpp); those are its own business, so the handle handed out is this narrower one.
using campaign_actor = caf::typed_actor<
    // A row of one of its calls (from the calls projection, through Campaigns).
    caf::reacts_to<call_row_atom, CallRow>,
    // Pause, resume, cancel by `by` (a token's name): answered once the decision is in the log.
    caf::replies_to<pause_atom, std::string>::with<ControlOutcome>,
    caf::replies_to<resume_atom, std::string>::with<ControlOutcome>,
    caf::replies_to<cancel_atom, std::string>::with<ControlOutcome>,
    // Its stream reached this version (from the calls projection): when another node wrote it (a control
    // taken there), the actor exits and Campaigns starts it again from the log.
    caf::reacts_to<written_atom, std::uint64_t>>;

campaign_actor spawn_campaign(caf::actor_system& system, const CampaignActorSettings& settings,
                              const std::string& id);

}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::CallRow)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::ControlOutcome)
