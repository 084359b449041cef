// The API tokens of the configuration (AccessToken in config.hpp): API_TOKEN, API_TOKENS, API_TOKENS_FILE and
// METRICS_TOKEN, read into one list.
//
// Contract: used by config.cpp only (load_config is the public door). Every secret is at least 16
// characters; names and secrets are distinct. Errors name the variable (and the file's line), never a secret,
// not even its length. Thread-safety: pure, apart from reading the file API_TOKENS_FILE names.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "eventstore/status.hpp"
#include "http/config/config.hpp"

namespace voxlog {

// Every token of the configuration, from `lookup` (the variable's value, "" when unset): API_TOKEN as the
// admin `api`, then API_TOKENS's and API_TOKENS_FILE's `name:role:secret` entries, then METRICS_TOKEN as
// `metrics`.
Result<std::vector<AccessToken>> collect_tokens(const std::function<std::string(const std::string&)>& lookup);

}  // namespace voxlog
