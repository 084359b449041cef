// check_flow: a structural check of a Twilio Studio flow definition (flow.json) before it is deployed.
//
// Contract: check_flow() returns every problem it finds, one precise sentence each, naming the state
// ("state 'report_busy': ..."); an empty list means the definition is fit to deploy to voxlog. It checks:
// the top level (states, initial_state naming a trigger state, flags.allow_concurrent_calls); unique state
// names; widget types and their transition events against Twilio's widget table (flow_check.cpp);
// required properties; every `next` names a state; every make-http-request targets one of the webhook
// routes voxlogd serves (kVoxlogWebhookRoutes) behind a Liquid base URL such as
// {{flow.variables.public_url}}, never a hard-coded host, including hosts hard-coded in a set-variables
// value that such a URL uses; JSON bodies parse once Liquid is replaced by placeholders, and every webhook
// (JSON or form) carries execution_sid so voxlogd can find the call.
//
// flow_data_reads() lists the flow.data names the definition's Liquid reads (the Parameters voxlog passes
// to Create Execution); flow_data_warnings() names each one voxlog never sends (kVoxlogFlowData), which a
// campaign fills only when its CSV has a column of that name: a warning, not a problem.
//
// Called by `voxlog flow check|deploy` (tools/voxlog/flow_actions.cpp) and the tests. Thread-safety: pure
// functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace voxlog {

// The paths voxlogd serves for Studio's HTTP widgets.
inline const std::vector<std::string> kVoxlogWebhookRoutes = {
    "/api/calls/webhooks/flow", "/api/calls/webhooks/status", "/api/calls/webhooks/dtmf"};

// The Parameters (flow.data.*) voxlogd sends with Create Execution, the one list of them: public_url with
// every call; the campaign's contact fields (appointment_day and appointment_time already formatted in
// the callee's time zone; every other CSV column is sent too, as a string); the wording overrides.
inline const std::vector<std::string> kVoxlogFlowData = {"public_url",
                                                         "campaign_id",
                                                         "attempt",
                                                         "name",
                                                         "appointment_at",
                                                         "appointment_day",
                                                         "appointment_time",
                                                         "place",
                                                         "tz",
                                                         "message",
                                                         "confirm_message",
                                                         "cancel_message",
                                                         "machine_message",
                                                         "goodbye_message",
                                                         "voicemail_prompt"};

std::vector<std::string> check_flow(const nlohmann::json& flow);

// flow.data name -> the states whose Liquid ({{ }} or {% %}) reads it, in state order; names sorted.
std::map<std::string, std::vector<std::string>> flow_data_reads(const nlohmann::json& flow);

// One sentence per flow.data name read but not in kVoxlogFlowData, naming the states that read it.
std::vector<std::string> flow_data_warnings(const nlohmann::json& flow);

}  // namespace voxlog
