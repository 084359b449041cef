// One simulated Studio execution: its identity, its Liquid context, and the outcome it is going to have.
//
// Contract: an Execution is created by the StudioService when Create Execution succeeds and is then
// walked one widget at a time by `run_step` (flow_walker.hpp). Every field is guarded by `mutex`: readers
// (the REST API's GET handlers) and the walker lock it; the walker releases it while a webhook is in
// flight. The StudioService keeps it after it ends (bounded, see studio_service.cpp) for the GET routes
// and GET /__sim/executions. The outcome is fixed at creation (from a script or the random mix) so that a run
// can be replayed from its seed.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace voxlog::sim {

// What happens to one call. Set by POST /__sim/script for the next execution to a number, or drawn
// from the OutcomeMix.
struct CallScript {
  std::string answer = "human";  // human | machine | busy | no-answer | failed
  // The keys pressed at each gather, in order ("" = none: the gather times out); the last repeats.
  std::vector<std::string> digits;
  // The callee hangs up after the first gather: with no key pressed, during it; after a key press, at
  // the next message (cut short: the execution ends) or, after a voicemail prompt, instead of pressing
  // # to end the recording (record-voicemail's `hangup` transition).
  bool hangup = false;
  std::string voicemail = "recorded";  // recorded | empty
};

struct Execution {
  mutable std::mutex mutex;

  std::string sid;  // FN...
  std::string flow_sid;
  std::string account_sid;
  std::string call_sid;                            // CA..., the call placed by make-outgoing-call-v2
  std::string to;                                  // contact.channel.address
  std::string from;                                // flow.channel.address
  nlohmann::json data = nlohmann::json::object();  // flow.data: the Parameters of Create Execution
  // The flow revision it runs, shared with the Flow and every other execution of that revision (a copy
  // per execution would cost tens of kilobytes each).
  std::shared_ptr<const nlohmann::json> definition;
  int flow_revision = 1;

  std::string status = "active";  // active | ended
  std::string date_created;       // ISO 8601, UTC
  std::string date_updated;
  std::string current_state;
  nlohmann::json variables = nlohmann::json::object();
  nlohmann::json widgets = nlohmann::json::object();
  nlohmann::json steps = nlohmann::json::array();  // {name, type, event, next} per widget run
  // What the callee heard, in order: the rendered `say` of every say-play and gather-input-on-call
  // widget that played ("play: <url>" for audio), so tests can check the personalised wording.
  std::vector<std::string> heard;

  CallScript script;
  int gathers_run = 0;
  bool hung_up = false;
  std::mt19937_64 rng;  // delays of this execution only, so runs are reproducible per seed

  // The Liquid scope: {"flow": {...}, "contact": {...}, "widgets": {...}}.
  nlohmann::json liquid_scope() const;
};

}  // namespace voxlog::sim
