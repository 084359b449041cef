// The dialer: the one place where voxlog asks Twilio Studio to place calls.
//
// Contract: a detached actor (its libcurl calls block) that takes single calls and batches. Every request is
// recorded before Twilio is asked (CallRequested, stream dial-<request id>), then its result:
// ExecutionCreated opens the call's stream (call-<execution SID>), or ExecutionRejected records Twilio's code
// and message. Numbers are normalised to E.164 first; a bad number is refused with invalid_argument naming it
// and is never dialled. A number that already has a call in flight (placed by this server, not yet over) is
// refused with conflict: nobody else's execution is ever ended. Creates are paced to TWILIO_CPS.
// A batch is answered at once ({batch_id, total, initiated}); its calls are then placed in order (a single
// call requested meanwhile waits for the batch call under way, not for the rest of the batch) and, when
// every one has been placed or has failed, CampaignCompleted {batch_id, total, success, failed, results,
// errors} is appended to batch-<id> (the broadcaster turns it into bulkCallComplete).
//
// Thread-safety: an actor; send it the messages below.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/twilio/twilio_client.hpp"
#include "eventstore/store.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

using dial_atom = caf::atom_constant<caf::atom("dial")>;
using batch_atom = caf::atom_constant<caf::atom("batch")>;
using job_atom = caf::atom_constant<caf::atom("job")>;
using public_url_atom = caf::atom_constant<caf::atom("publicurl")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;

struct DialerSettings {
  EventStore* store = nullptr;
  CallsView* view = nullptr;
  ClientOptions client;         // Studio base URL, credentials, flow SID
  std::string from;             // TWILIO_PHONE_NUMBER
  std::string default_region;   // for numbers written without +country
  double calls_per_second = 1;  // TWILIO_CPS
  std::size_t max_batch = 1000;
};

struct DialOutcome {
  std::string to;             // E.164 when it parsed, else the input
  std::string execution_sid;  // set on success
  Status status;              // ok, or why not
  int http_status = 0;        // Twilio's answer, when there was one
  int twilio_code = 0;
};

struct BatchAccepted {
  std::string batch_id;
  std::size_t total = 0;
  std::size_t initiated = 0;  // valid, distinct numbers that will be dialled
};

// A running batch after a pause or resume request.
struct CampaignState {
  std::string batch_id;
  bool paused = false;
  std::size_t remaining = 0;  // calls not placed yet
  bool changed = false;       // false: it already was paused (or running); nothing was recorded
};

using DialReply = std::function<void(const DialOutcome&)>;
using BatchReply = std::function<void(const Result<BatchAccepted>&)>;
using CampaignReply = std::function<void(const Result<CampaignState>&)>;

// Messages: (dial_atom, std::string number, std::string by, DialReply), (batch_atom,
// std::vector<std::string>, std::string by, BatchReply), and (pause_atom | resume_atom, std::string
// batch_id, std::string by, CampaignReply). `by` names who asked (the API token's name): CallRequested,
// CampaignCreated, CampaignPaused and CampaignResumed record it, so the audit trail says who. A paused batch
// places no more calls (the one under way, if any, finishes) until it is resumed; CampaignPaused and
// CampaignResumed {batch_id, remaining} record each change on batch-<id>; a batch that is not running
// is not_found. The dialer holds every request until it is told the public URL the flow must call back
// ((public_url_atom, std::string), known once the HTTP server has bound its port).
caf::actor spawn_dialer(caf::actor_system& system, DialerSettings settings);

}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::DialReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::BatchReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::CampaignReply)
