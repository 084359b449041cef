// decide(): which events a webhook produces for a call, given the call's row so far.
//
// Contract: pure, but for the parameters it takes from the webhook. The first event is always WebhookReceived
// (the raw parameters, so the audit trail holds exactly what Twilio said); domain events follow only when the
// webhook changes the call: a status that moves forward (ordered by Twilio's SequenceNumber when present,
// never leaving a terminal status), key presses, the appointment outcome for 1 / 2 / 0, a recording, a flow
// step. A late or repeated status is recorded (WebhookReceived) and changes nothing else.
//
// Thread-safety: pure function.
#pragma once

#include <vector>

#include "actors/webhook.hpp"
#include "eventstore/event.hpp"
#include "projections/call_row.hpp"

namespace voxlog {

// Takes webhook.params: they move into the WebhookReceived event (events[0].data["params"]), where the
// later events are decided from; webhook.params is left an empty object.
std::vector<NewEvent> decide(const CallRow& call, Webhook& webhook);

// The Twilio CallStatus a webhook reports ("" if none): the flow's event name when it is a call status
// (answered -> in-progress, no_answer -> no-answer, call_failed -> failed, completed, ...), else
// CallStatus / call_status.
std::string reported_status(const Webhook& webhook);

// The outcome ("confirmed", "cancelled", "voicemail", "opted-out") a plain press of `digits` means, or "".
// Campaigns use it for a call whose final report never came, from the digits Studio's Context kept.
std::string outcome_of_digits(const std::string& digits);

}  // namespace voxlog
