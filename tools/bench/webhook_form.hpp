// Realistic Twilio call-status callbacks for the server benchmarks, signed the way Twilio signs them.
//
// Contract: `status_callback` builds the form parameters Twilio sends to a StatusCallback URL for one
// event of one outbound call (Twilio's status callback documentation: the always-present parameters, geo
// fields, Timestamp, CallbackSource, SequenceNumber; duration and SIP code on `completed`). Sequence numbers
// 0..3 are initiated, ringing, in-progress, completed, in Twilio's order. `signed_status_callback` encodes
// the body and computes its X-Twilio-Signature for `url` (the public URL the server verifies against) with
// the project's one signer, http/twilio_signature.hpp. `bench_call_sid` makes CallSids that carry a run tag
// and an index, so a benchmark can recognise its own calls in anything the server sends back.
// Used by webhook_gen (wrk's request file) and ws_latency (live requests). The auth token goes into
// the signature only; nothing here prints it.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/twilio_signature.hpp"

namespace voxlog::bench {

struct SignedForm {
  std::string body;       // application/x-www-form-urlencoded
  std::string signature;  // X-Twilio-Signature
};

// "CA" + `run_tag` (16 hex digits) + `index` as 16 hex digits: 34 characters, like a real CallSid.
std::string bench_call_sid(std::string_view run_tag, std::uint64_t index);

// 16 random hex digits, distinct per run (so two runs against one server never share a CallSid).
std::string random_run_tag();

// The status callback with SequenceNumber `sequence` (0..3) of call `call_sid`; `callee` picks the
// number that was called, so calls differ in more than their SID.
twilio::FormParams status_callback(const std::string& call_sid, int sequence, std::uint64_t callee);

SignedForm signed_status_callback(std::string_view auth_token, std::string_view url,
                                  const twilio::FormParams& params);

}  // namespace voxlog::bench
