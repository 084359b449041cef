// The Twilio accounts of the configuration: TWILIO_ACCOUNTS and TWILIO_<NAME>_..., the default account,
// choosing one by name or region, and errors that name the variable and never a token.
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "http/config/config.hpp"

using voxlog::config_from;
using voxlog::StatusCode;

namespace {

const std::string kNoFile = "/nonexistent/voxlog/.env";
const std::string kPlSid = "AC" + std::string(32, '1');
const std::string kUkSid = "AC" + std::string(32, '2');

std::map<std::string, std::string> two_accounts() {
  return {{"TWILIO_ACCOUNT_SID", kPlSid},
          {"TWILIO_AUTH_TOKEN", "pl-secret-token-0001"},
          {"TWILIO_PHONE_NUMBER", "+48221234567"},
          {"TWILIO_REGION", "Poland"},
          {"TWILIO_ACCOUNTS", " uk "},
          {"TWILIO_UK_ACCOUNT_SID", kUkSid},
          {"TWILIO_UK_AUTH_TOKEN", "uk-secret-token-0002"},
          {"TWILIO_UK_PHONE_NUMBER", "+442071234567"},
          {"TWILIO_UK_FLOW_SID", "FW" + std::string(32, '3')}};
}

}  // namespace

TEST_CASE("one account, as before: the default, with no region", "[config][accounts]") {
  auto c =
      config_from({{"TWILIO_ACCOUNT_SID", kPlSid}, {"TWILIO_AUTH_TOKEN", "pl-secret-token-0001"}}, kNoFile);
  REQUIRE(c.is_ok());
  REQUIRE(c->twilio_accounts.size() == 1);
  CHECK(c->twilio_accounts[0].name == "default");
  CHECK(c->twilio_accounts[0].region.empty());
  CHECK(c->twilio_accounts[0].account_sid == kPlSid);
  CHECK_FALSE(c->simulate());
  auto chosen = c->choose_twilio_account("", "");
  REQUIRE(chosen.is_ok());
  CHECK((*chosen)->name == "default");
  auto none = c->choose_twilio_account("", "uk");
  REQUIRE_FALSE(none.is_ok());
  CHECK(none.status().message() == "unknown region 'uk': the regions are (none configured)");
}

TEST_CASE("named accounts with their variables, region and name pick one, case-blind", "[config][accounts]") {
  auto c = config_from(two_accounts(), kNoFile);
  REQUIRE(c.is_ok());
  REQUIRE(c->twilio_accounts.size() == 2);
  CHECK(c->twilio_accounts[0].name == "default");
  CHECK(c->twilio_accounts[0].region == "poland");
  CHECK(c->twilio_accounts[1].name == "uk");
  CHECK(c->twilio_accounts[1].region == "uk");  // the name, when no region is given
  CHECK(c->twilio_accounts[1].auth_token == "uk-secret-token-0002");
  CHECK(c->twilio_accounts[1].phone_number == "+442071234567");
  CHECK((*c->choose_twilio_account("", "UK"))->name == "uk");
  CHECK((*c->choose_twilio_account("uk", ""))->name == "uk");
  CHECK((*c->choose_twilio_account("", "poland"))->name == "default");
  CHECK((*c->choose_twilio_account("uk", "uk"))->name == "uk");
  CHECK(c->choose_twilio_account("mars", "").status().message() ==
        "unknown account 'mars': the accounts are default, uk");
  CHECK(c->choose_twilio_account("", "mars").status().message() ==
        "unknown region 'mars': the regions are poland, uk");
  CHECK(c->choose_twilio_account("uk", "poland").status().code() == StatusCode::invalid_argument);
  // What a client sent comes back shortened.
  CHECK(c->choose_twilio_account(std::string(500, 'x'), "").status().message().size() < 120);

  std::string line = voxlog::describe(*c);
  CHECK_THAT(line, Catch::Contains("accounts=default:poland(AC...1111 auth_token=set from=+48221234567"));
  CHECK_THAT(line, Catch::Contains("uk:uk(AC...2222 auth_token=set from=+442071234567 flow=FW"));
  CHECK_THAT(line, !Catch::Contains("secret-token"));
}

TEST_CASE("without the unnamed variables the first named account is the default", "[config][accounts]") {
  auto c = config_from({{"TWILIO_ACCOUNTS", "poland,uk:gb"}}, kNoFile);
  REQUIRE(c.is_ok());
  REQUIRE(c->twilio_accounts.size() == 2);
  CHECK(c->twilio_accounts[0].name == "poland");
  CHECK(c->twilio_accounts[1].region == "gb");
  CHECK(c->simulate());  // no credentials: the simulator plays both
  CHECK((*c->choose_twilio_account("", ""))->name == "poland");
}

TEST_CASE("account errors name the variable and never show a token", "[config][accounts]") {
  auto error_of = [](std::map<std::string, std::string> env) {
    auto c = config_from(env, kNoFile);
    REQUIRE_FALSE(c.is_ok());
    CHECK(c.status().code() == StatusCode::invalid_argument);
    CHECK_THAT(c.status().message(), !Catch::Contains("secret-token"));
    return c.status().message();
  };
  auto env = two_accounts();
  env.erase("TWILIO_UK_AUTH_TOKEN");
  CHECK_THAT(error_of(env), Catch::Contains("TWILIO_UK_AUTH_TOKEN"));
  env = two_accounts();
  env["TWILIO_UK_AUTH_TOKEN"] = "pl-secret-token-0001";
  CHECK_THAT(error_of(env), Catch::Contains("the same auth token"));
  env = two_accounts();
  env["TWILIO_UK_ACCOUNT_SID"] = kPlSid;
  CHECK_THAT(error_of(env), Catch::Contains("the same account SID"));
  env = two_accounts();
  env["TWILIO_UK_FLOW_SID"] = "XX1";
  CHECK_THAT(error_of(env), Catch::Contains("TWILIO_UK_FLOW_SID='XX1' must start with FW"));
  env = two_accounts();
  env["TWILIO_ACCOUNTS"] = "uk,default";
  CHECK_THAT(error_of(env), Catch::Contains("'default' is the account of TWILIO_ACCOUNT_SID"));
  env = two_accounts();
  env["TWILIO_ACCOUNTS"] = "uk,uk";
  CHECK_THAT(error_of(env), Catch::Contains("names the account 'uk' twice"));
  env = two_accounts();
  env["TWILIO_ACCOUNTS"] = "uk:poland";
  CHECK_THAT(error_of(env), Catch::Contains("two accounts serve the region 'poland'"));
  env = two_accounts();
  env["TWILIO_ACCOUNTS"] = "u-k";
  CHECK_THAT(error_of(env), Catch::Contains("TWILIO_ACCOUNTS entry 'u-k'"));
  // Simulated default, real-looking named account: refused, no call may go to the simulator by mistake.
  CHECK_THAT(error_of({{"TWILIO_ACCOUNTS", "pl,uk"}, {"TWILIO_UK_ACCOUNT_SID", kUkSid}}),
             Catch::Contains("TWILIO_UK_ACCOUNT_SID is set"));
}
