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
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace voxlog {

// The paths voxlogd serves for Studio's HTTP widgets.
inline const std::vector<std::string> kVoxlogWebhookRoutes = {
    "/api/calls/webhooks/flow", "/api/calls/webhooks/status", "/api/calls/webhooks/dtmf"};

std::vector<std::string> check_flow(const nlohmann::json& flow);

}  // namespace voxlog
