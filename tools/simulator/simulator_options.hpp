// Configuration of the Twilio simulator: credentials, the flow it runs, timing, outcomes and faults.
//
// Contract: plain values, filled in by the caller of Simulator::start (voxlogd, voxlog-sim, tests) and
// copied by the simulator; changing them afterwards has no effect. Weights need not sum to anything:
// each is a relative frequency (0 disables an outcome). Thread-safety: plain values.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace voxlog::sim {

// How a call placed by make-outgoing-call-v2 and the callee's choices turn out, when not scripted.
struct OutcomeMix {
  double human = 70;
  double machine = 10;
  double busy = 7;
  double no_answer = 8;
  double failed = 5;
  // What the callee presses at each gather-input-on-call ("none" lets it time out).
  double digit_1 = 45;
  double digit_2 = 20;
  double digit_0 = 10;
  double digit_other = 5;
  double digit_none = 20;
  double digit_9 = 0;  // opt out ("To stop receiving these calls, press 9"); 0 keeps older mixes' draws
  // After the beep of record-voicemail: a message, or silence (noAudio).
  double voicemail_recorded = 85;
  double voicemail_empty = 15;
};

// Failures injected into Create Execution requests at random (probabilities 0..1). The admin route
// POST /__sim/faults injects them deterministically into the next N requests instead.
struct FaultRates {
  double create_5xx = 0;   // 500 with Twilio's error body, nothing created
  double create_drop = 0;  // the execution IS created, then the connection drops without an answer
  double create_429 = 0;   // 429 / 20429, nothing created
  double slow = 0;         // the answer is delayed by slow_ms
  int slow_ms = 2000;
};

// An account besides SimulatorOptions::account_sid: its own auth token (Basic auth and webhook signatures)
// and its own flow running the same definition, as when one business has a Twilio account per country.
struct SimulatedAccount {
  std::string account_sid;  // AC...
  std::string auth_token;
  std::string flow_sid;  // empty derives one from the definition and the account
};

struct SimulatorOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;  // 0 picks a free port; Simulator::port() tells which
  std::string account_sid = "AC00000000000000000000000000000000";
  std::string auth_token;          // Basic-auth password of the REST API and key of the webhook signatures
  std::string flow_sid;            // the flow served from the start; empty derives one from the definition
  nlohmann::json flow_definition;  // normally flow.json; must be a valid definition
  double time_scale = 1.0;         // multiplies every simulated duration; tests use 0.01 or less
  OutcomeMix mix;
  FaultRates faults;
  int max_creates_per_second = 20;  // Studio's limit for REST-triggered executions per account
  uint64_t seed = 0;                // 0 seeds from the clock
  int workers = 4;                  // threads that walk executions and send their webhooks
  // More accounts: each sees only its own flows and executions, and its executions' webhooks are signed
  // with its own token (GET /__sim/executions shows each execution's account_sid and flow_sid).
  std::vector<SimulatedAccount> more_accounts;
};

}  // namespace voxlog::sim
