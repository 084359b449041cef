#include "http/config/twilio_accounts.hpp"

#include "eventstore/text.hpp"
#include "http/config/config_text.hpp"

#include <cctype>
#include <set>
#include <sstream>

namespace voxlog {
namespace {

const char* const kWhat[] = {"ACCOUNT_SID", "AUTH_TOKEN", "PHONE_NUMBER", "FLOW_SID"};

using config_text::trim;

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// A name or region: it becomes part of variable names and is what clients send, so plain words only.
bool valid_word(const std::string& w) {
  if (w.empty() || w.size() > 32) return false;
  for (char ch : w)
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) ||
          ch == '_'))
      return false;
  return true;
}

// SIDs are not secrets: an error may quote one (shortened: it is for recognising, not copying).
std::string quoted(const std::string& value) {
  return "'" + value.substr(0, 40) + "'";
}

Status check_sids(const TwilioAccount& a, const std::string& sid_variable, const std::string& flow_variable) {
  if (!a.account_sid.empty() && a.account_sid.rfind("AC", 0) != 0)
    return invalid_argument(sid_variable + "=" + quoted(a.account_sid) + " must start with AC");
  if (!a.flow_sid.empty() && a.flow_sid.rfind("FW", 0) != 0)
    return invalid_argument(flow_variable + "=" + quoted(a.flow_sid) + " must start with FW");
  return Status::ok();
}

std::string abbreviated(const std::string& sid) {
  if (sid.empty()) return "(unset)";
  if (sid.size() <= 8) return "***";
  return sid.substr(0, 2) + "..." + sid.substr(sid.size() - 4);
}

bool live(const TwilioAccount& a) {
  return !a.account_sid.empty() && !a.auth_token.empty();
}

}  // namespace

std::string account_variable(const std::string& name, const char* what) {
  return "TWILIO_" + upper(name) + "_" + what;
}

bool is_account_variable(const std::string& variable) {
  if (variable.rfind("TWILIO_", 0) != 0) return false;
  for (const char* what : kWhat) {
    std::string suffix = std::string("_") + what;
    if (variable.size() > 7 + suffix.size() &&
        variable.compare(variable.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

Status read_twilio_accounts(const std::function<std::string(const std::string&)>& lookup, Config& c) {
  TwilioAccount unnamed{"default",
                        lower_ascii(lookup("TWILIO_REGION")),
                        c.twilio_account_sid,
                        c.twilio_auth_token,
                        c.twilio_phone_number,
                        c.twilio_flow_sid};
  if (!unnamed.region.empty() && !valid_word(unnamed.region))
    return invalid_argument("TWILIO_REGION=" + quoted(unnamed.region) +
                            " must be 1 to 32 letters, digits or '_' (the word clients send as region)");
  std::vector<TwilioAccount> named;
  std::stringstream list(lookup("TWILIO_ACCOUNTS"));
  std::string entry;
  while (std::getline(list, entry, ',')) {
    entry = lower_ascii(trim(entry));
    if (entry.empty()) continue;
    TwilioAccount a;
    auto colon = entry.find(':');
    a.name = trim(entry.substr(0, colon));
    a.region = colon == std::string::npos ? a.name : trim(entry.substr(colon + 1));
    if (!valid_word(a.name) || !valid_word(a.region))
      return invalid_argument("TWILIO_ACCOUNTS entry " + quoted(entry) +
                              ": expected name or name:region, each 1 to 32 letters, digits or '_'");
    if (a.name == "default")
      return invalid_argument(
          "TWILIO_ACCOUNTS: 'default' is the account of TWILIO_ACCOUNT_SID; give the others other names");
    a.account_sid = lookup(account_variable(a.name, "ACCOUNT_SID"));
    a.auth_token = lookup(account_variable(a.name, "AUTH_TOKEN"));
    a.phone_number = lookup(account_variable(a.name, "PHONE_NUMBER"));
    a.flow_sid = lookup(account_variable(a.name, "FLOW_SID"));
    if (Status s =
            check_sids(a, account_variable(a.name, "ACCOUNT_SID"), account_variable(a.name, "FLOW_SID"));
        !s)
      return s;
    named.push_back(std::move(a));
  }
  bool unnamed_set = !unnamed.account_sid.empty() || !unnamed.auth_token.empty() ||
                     !unnamed.phone_number.empty() || !unnamed.flow_sid.empty() || !unnamed.region.empty();
  c.twilio_accounts.clear();
  if (named.empty() || unnamed_set) c.twilio_accounts.push_back(std::move(unnamed));
  for (auto& a : named) c.twilio_accounts.push_back(std::move(a));

  std::set<std::string> names, regions;
  for (const auto& a : c.twilio_accounts) {
    if (!names.insert(a.name).second)
      return invalid_argument("TWILIO_ACCOUNTS names the account '" + a.name + "' twice");
    if (!a.region.empty() && !regions.insert(a.region).second)
      return invalid_argument("TWILIO_ACCOUNTS: two accounts serve the region '" + a.region + "'");
  }
  // A webhook tells its account by the token that signed it: two accounts with one token could not be told
  // apart (and one SID twice is a copy-paste slip).
  for (std::size_t i = 0; i < c.twilio_accounts.size(); ++i)
    for (std::size_t j = 0; j < i; ++j) {
      const TwilioAccount& a = c.twilio_accounts[j];
      const TwilioAccount& b = c.twilio_accounts[i];
      if (!a.account_sid.empty() && a.account_sid == b.account_sid)
        return invalid_argument("accounts '" + a.name + "' and '" + b.name + "' have the same account SID");
      if (!a.auth_token.empty() && a.auth_token == b.auth_token)
        return invalid_argument("accounts '" + a.name + "' and '" + b.name +
                                "' have the same auth token: each Twilio account has its own");
    }
  // All real or all simulated: a call must never go to a simulator because one account lacks a token.
  const TwilioAccount& first = c.twilio_accounts.front();
  bool real = live(first);
  for (const auto& a : c.twilio_accounts) {
    std::string sid_variable =
        a.name == "default" ? "TWILIO_ACCOUNT_SID" : account_variable(a.name, "ACCOUNT_SID");
    std::string token_variable =
        a.name == "default" ? "TWILIO_AUTH_TOKEN" : account_variable(a.name, "AUTH_TOKEN");
    if (real && !live(a))
      return invalid_argument("account '" + a.name + "' needs " + sid_variable + " and " + token_variable +
                              " like account '" + first.name +
                              "' (every account real, or none: the simulator)");
    if (!real && !a.account_sid.empty() && &a != &first)
      return invalid_argument(sid_variable + " is set but account '" + first.name +
                              "' has no SID and auth token: give every account both (real Twilio) or none "
                              "a SID (the simulator)");
  }
  return Status::ok();
}

Result<const TwilioAccount*> Config::choose_twilio_account(const std::string& account,
                                                           const std::string& region) const {
  const TwilioAccount* by_name = nullptr;
  const TwilioAccount* by_region = nullptr;
  std::string names, regions;
  for (const TwilioAccount& a : twilio_accounts) {
    names += (names.empty() ? "" : ", ") + a.name;
    if (!a.region.empty()) regions += (regions.empty() ? "" : ", ") + a.region;
    if (!account.empty() && a.name == lower_ascii(trim(account))) by_name = &a;
    if (!region.empty() && !a.region.empty() && a.region == lower_ascii(trim(region))) by_region = &a;
  }
  // What the caller sent is quoted shortened: it is untrusted text going back into an error.
  if (!account.empty() && !by_name)
    return invalid_argument("unknown account " + quoted(account) + ": the accounts are " + names);
  if (!region.empty() && !by_region)
    return invalid_argument("unknown region " + quoted(region) + ": the regions are " +
                            (regions.empty() ? "(none configured)" : regions));
  if (by_name && by_region && by_name != by_region)
    return invalid_argument("account " + quoted(account) + " does not serve region " + quoted(region) +
                            " (account '" + by_region->name + "' does)");
  if (by_name) return by_name;
  if (by_region) return by_region;
  static const TwilioAccount kUnconfigured = [] {  // for a Config not made by load_config (tests)
    TwilioAccount a;
    a.name = "default";
    return a;
  }();
  return twilio_accounts.empty() ? &kUnconfigured : &twilio_accounts.front();
}

std::string describe_accounts(const Config& c) {
  std::ostringstream out;
  out << " accounts=";
  for (std::size_t i = 0; i < c.twilio_accounts.size(); ++i) {
    const TwilioAccount& a = c.twilio_accounts[i];
    out << (i ? "," : "") << a.name << ':' << (a.region.empty() ? "(no region)" : a.region) << '('
        << abbreviated(a.account_sid) << " auth_token=" << (a.auth_token.empty() ? "(unset)" : "set")
        << " from=" << (a.phone_number.empty() ? "(unset)" : a.phone_number)
        << " flow=" << (a.flow_sid.empty() ? "(unset)" : a.flow_sid) << ')';
  }
  return out.str();
}

}  // namespace voxlog
