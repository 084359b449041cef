// The dialer: the one place where voxlog asks Twilio Studio to place calls, for single calls and campaigns.
//
// Contract: an event-based actor that never blocks. It checks each request (a number on the do-not-call
// list is refused with failed_precondition; a number with a call in flight, placed by this server and not
// over, or being placed, is refused with conflict: nobody is ever called twice at once), paces every
// create to at most `max_cps` (Studio's 20 executions per second by default) across everything, and hands
// the request to an idle detached worker, each with its own StudioClient per account (one more worker is
// spawned when all are busy, up to `workers`), so a slow or failing Twilio create delays only its own
// request. A request names the Twilio account it goes through (DialRequest::account; empty: the first of
// DialerSettings::accounts, the default); an unknown name is refused with not_found, nothing recorded. The
// account's name (and region) is recorded in CallRequested, ExecutionCreated (with its flow) and
// ExecutionRejected, and its caller ID is the From. A worker records CallRequested (stream dial-<request id>,
// expected version 0: one request id is placed at most once, even when recovery asks again) before Twilio is
// asked, then the result: ExecutionCreated opens the call's stream (call-<execution SID>), or
// ExecutionRejected records Twilio's code and message. Then the worker answers the request (the dialer
// delegated it there). Campaign calls carry campaign_id, phone and attempt into those events and the
// contact's Parameters into the execution; public_url is always added.
//
// Lookups and fetches (recovery after a crash, calls whose end never came) run on the workers too, in the
// named account (empty: the default). On exit (shutdown) every request still queued is answered with an
// error.
//
// Thread-safety: an actor; its protocol is dialer_actor below.
#pragma once

#include <string>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/twilio/twilio_client.hpp"
#include "eventstore/store.hpp"
#include "projections/calls_view.hpp"

namespace voxlog {

using dial_atom = caf::atom_constant<caf::atom("dial")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using fetch_atom = caf::atom_constant<caf::atom("fetch")>;
using public_url_atom = caf::atom_constant<caf::atom("publicurl")>;

// A Twilio account calls can be placed through (Config's TwilioAccount, or the simulator's stand-in).
struct DialAccount {
  std::string name;      // recorded in the events: "default", "uk", ...
  std::string region;    // recorded too, when set
  ClientOptions client;  // Studio base URL, credentials, flow SID
  std::string from;      // the caller ID of its calls
};

struct DialerSettings {
  EventStore* store = nullptr;
  CallsView* view = nullptr;
  std::vector<DialAccount> accounts;  // the first is the default; at least one
  std::string default_region;         // for numbers written without +country
  double max_cps = 20;                // every create, whoever asks
  int workers = 16;                   // creates under way at once, at most (workers are spawned as needed)
};

struct DialRequest {
  std::string number;   // as typed (single calls) or E.164 (campaigns)
  std::string account;  // DialAccount::name; empty: the default account
  std::string by;       // who asked (the API token's name), recorded in CallRequested
  std::string campaign_id;
  int attempt = 0;
  std::string request_id;  // a campaign names it (its CallQueued); empty: the dialer makes one
  nlohmann::json parameters = nlohmann::json::object();  // the contact's, for the flow
};

struct DialOutcome {
  std::string to;             // E.164 when it parsed, else the input
  std::string request_id;     // set once CallRequested was recorded
  std::string execution_sid;  // set on success
  Status status;              // ok, or why not
  int http_status = 0;        // Twilio's answer, when there was one
  int twilio_code = 0;
  bool requested = false;    // CallRequested was recorded (Twilio may have been asked)
  bool do_not_call = false;  // refused: the number is on the do-not-call list
};

using ExecutionsResult = ApiResult<std::vector<Execution>>;
using ExecutionResult = ApiResult<Execution>;

using dialer_done_atom = caf::atom_constant<caf::atom("dialdone")>;
using dialer_pump_atom = caf::atom_constant<caf::atom("dialpump")>;

// The dialer's protocol. Requests are answered by CAF's request/response (the worker that did the work
// answers the requester directly); one that cannot be done is an outcome or result saying why, never an
// error message, except when the dialer itself has stopped.
using dialer_actor = caf::typed_actor<
    // Place a call: checks, pace, CallRequested, the create, ExecutionCreated or ExecutionRejected.
    caf::replies_to<dial_atom, DialRequest>::with<DialOutcome>,
    // The executions to `phone` in `account` created since `since_s` (epoch seconds), ended or not
    // (recovery).
    caf::replies_to<lookup_atom, std::string, std::string, std::int64_t>::with<ExecutionsResult>,
    // One execution of `account`; an ended one with its Context (the call's outcome, when its webhooks
    // were lost).
    caf::replies_to<fetch_atom, std::string, std::string>::with<ExecutionResult>,
    // The URL the flow calls back (from main, once the HTTP server has bound its port): until it is
    // known, requests wait.
    caf::reacts_to<public_url_atom, std::string>,
    // Internal: a worker is free again (worker index, the number it placed and its SID, or empty), and
    // the pace's timer.
    caf::reacts_to<dialer_done_atom, int, std::string, std::string>, caf::reacts_to<dialer_pump_atom>>;

dialer_actor spawn_dialer(caf::actor_system& system, DialerSettings settings);

}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::DialRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::DialOutcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::ExecutionsResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::ExecutionResult)
