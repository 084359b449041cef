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
// ExecutionRejected records Twilio's code and message. Then it answers the request's DialReply (on the
// worker's thread). Campaign calls carry campaign_id, phone and attempt into those events and the contact's
// Parameters into the execution; public_url is always added.
//
// Lookups (recovery after a crash): (lookup_atom, account, phone, since epoch s, LookupReply) lists the
// contact's executions created since then; (fetch_atom, account, sid, FetchReply) reads one (an ended one
// with its Context), both in the named account (empty: the default). They run on the workers too.
//
// The dialer holds every request until it is told the public URL the flow must call back
// ((public_url_atom, std::string), known once the HTTP server has bound its port).
//
// Thread-safety: an actor; send it the messages below. Replies run on a worker's thread.
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

using DialReply = std::function<void(const DialOutcome&)>;
using LookupReply = std::function<void(const ApiResult<std::vector<Execution>>&)>;
using FetchReply = std::function<void(const ApiResult<Execution>&)>;

// Messages: (dial_atom, DialRequest, DialReply), (lookup_atom, std::string account, std::string phone,
// std::int64_t since_s, LookupReply), (fetch_atom, std::string account, std::string sid, FetchReply).
caf::actor spawn_dialer(caf::actor_system& system, DialerSettings settings);

}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::DialRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::DialOutcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::DialReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::LookupReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::FetchReply)
