// The form side of parse_webhook: decoding, repeated names, and the webhook it yields from a form that
// the signature check already parsed (whose strings it takes over).
#include "http/webhook_parse.hpp"

#include <catch2/catch.hpp>

using namespace voxlog;

TEST_CASE("form_to_json keeps single names as strings and gathers a repeated name into an array, in order") {
  FormParams params = {
      {"CallSid", "CA1"}, {"Tag", "a"}, {"CallStatus", "ringing"}, {"Tag", "b"}, {"Tag", "c"}};
  nlohmann::json json = form_to_json(params);
  CHECK(json == nlohmann::json{{"CallSid", "CA1"}, {"CallStatus", "ringing"}, {"Tag", {"a", "b", "c"}}});
}

TEST_CASE("parse_webhook takes a parsed form over and finds the call and the dedupe key in it") {
  auto form = parse_form("CallSid=CA123&CallStatus=in-progress&SequenceNumber=2&To=%2B447700900123&Note=a+b");
  REQUIRE(form);
  auto webhook =
      parse_webhook(WebhookRoute::status, "application/x-www-form-urlencoded", "", "", 1000, &*form);
  REQUIRE(webhook);
  CHECK(webhook->call_sid == "CA123");
  CHECK(webhook->params["To"] == "+447700900123");
  CHECK(webhook->params["Note"] == "a b");
  CHECK(webhook->dedupe == "status:CA123:2:in-progress");
  CHECK(webhook->content_type == "form");
}

TEST_CASE("parse_webhook parses the body itself when no form is given, and refuses a broken escape") {
  std::string body = "CallSid=CA9&CallStatus=completed&SequenceNumber=4";
  auto webhook =
      parse_webhook(WebhookRoute::status, "application/x-www-form-urlencoded; charset=utf-8", body, "", 1000);
  REQUIRE(webhook);
  CHECK(webhook->params ==
        nlohmann::json{{"CallSid", "CA9"}, {"CallStatus", "completed"}, {"SequenceNumber", "4"}});
  auto broken =
      parse_webhook(WebhookRoute::status, "application/x-www-form-urlencoded", "CallSid=CA%G1", "", 1000);
  REQUIRE_FALSE(broken);
  CHECK(broken.status().code() == StatusCode::invalid_argument);
  CHECK(broken.status().message().find("at byte 10 ") != std::string::npos);  // where in the body
  auto broken_name = parse_webhook(WebhookRoute::status, "application/x-www-form-urlencoded",
                                   "CallSid=CA1&Call%2=x", "", 1000);
  REQUIRE_FALSE(broken_name);
  CHECK(broken_name.status().message().find("at byte 16 ") != std::string::npos);
  auto plus = parse_webhook(WebhookRoute::status, "application/x-www-form-urlencoded",
                            "CallSid=CA1&To=%2B44+20&Empty=&Bare", "", 1000);
  REQUIRE(plus);
  CHECK(plus->params == nlohmann::json{{"CallSid", "CA1"}, {"To", "+44 20"}, {"Empty", ""}, {"Bare", ""}});
}

TEST_CASE("the dedupe key comes from what the signature covers, never from the idempotency header") {
  std::string body = R"({"execution_sid":"FN1","event":"dtmf","digits":"1","timestamp":"1700000000"})";
  auto first = parse_webhook(WebhookRoute::dtmf, "application/json", body, "idem-1", 1000);
  auto replay = parse_webhook(WebhookRoute::dtmf, "application/json", body, "idem-2", 2000);
  auto unsent = parse_webhook(WebhookRoute::dtmf, "application/json", body, "", 3000);
  REQUIRE(first);
  REQUIRE(replay);
  REQUIRE(unsent);
  CHECK(first->dedupe == replay->dedupe);  // a replay with a new header value is still a duplicate
  CHECK(first->dedupe == unsent->dedupe);
  CHECK(first->idempotency_token == "idem-1");  // recorded, not trusted
  std::string other = R"({"execution_sid":"FN1","event":"dtmf","digits":"2","timestamp":"1700000000"})";
  auto second_press = parse_webhook(WebhookRoute::dtmf, "application/json", other, "idem-1", 4000);
  REQUIRE(second_press);
  CHECK(second_press->dedupe != first->dedupe);  // one header value on two bodies decides nothing either

  std::string status = "CallSid=CA9&CallStatus=completed&SequenceNumber=4";
  auto callback =
      parse_webhook(WebhookRoute::status, "application/x-www-form-urlencoded", status, "idem-9", 1);
  REQUIRE(callback);
  CHECK(callback->dedupe == "status:CA9:4:completed");
}
