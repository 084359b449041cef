// The Twilio accounts of the configuration (TwilioAccount in config.hpp): reading TWILIO_ACCOUNTS and the
// TWILIO_<NAME>_... variables, and describing them without their secrets.
//
// Contract: used by config.cpp (load_config and describe are the public doors), and by the CLI for
// account_variable. Errors name the
// variable, never an auth token's value. Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>

#include "eventstore/status.hpp"
#include "http/config/config.hpp"

namespace voxlog {

// Fills c.twilio_accounts from `lookup` (the variable's value, "" when unset), after c.twilio_account_sid
// and the other default-account fields were read and checked.
Status read_twilio_accounts(const std::function<std::string(const std::string&)>& lookup, Config& c);

// "TWILIO_<NAME>_<WHAT>" for account `name`.
std::string account_variable(const std::string& name, const char* what);

// True for a name load_config() must collect from the environment although it is not in
// config_variable_names(): the TWILIO_<NAME>_... variables of named accounts.
bool is_account_variable(const std::string& variable);

// " accounts=default(...),uk:uk(AC...1234 auth_token=set from=+44... flow=FW...)" for describe().
std::string describe_accounts(const Config& c);

}  // namespace voxlog
