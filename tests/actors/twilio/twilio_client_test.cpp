#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/twilio/twilio_client.hpp"
#include "tests/actors/twilio/fake_studio.hpp"

using nlohmann::json;
using voxlog::ClientOptions;
using voxlog::StatusCode;
using voxlog::StudioClient;
using voxlog::testing::FakeStudio;
using voxlog::testing::kFakeFlowSid;
using voxlog::testing::Reply;
using voxlog::testing::respond;

namespace {

const std::string kAccount = "AC0123456789abcdef0123456789abcdef";
const std::string kToken = "tok_5ecret_never_print_me";
const std::string kFrom = "+15017122661";
const std::string kTo = "+447400123456";

ClientOptions options_for(const std::string& base_url) {
  ClientOptions o;
  o.base_url = base_url;
  o.account_sid = kAccount;
  o.auth_token = kToken;
  o.flow_sid = kFakeFlowSid;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.request_timeout = std::chrono::milliseconds(400);
  o.max_attempts = 4;
  o.backoff_base = std::chrono::milliseconds(5);
  o.backoff_cap = std::chrono::milliseconds(40);
  o.rng_seed = 42;
  return o;
}

void check_no_secret(const voxlog::Status& status) {
  CHECK_THAT(status.message(), !Catch::Contains(kToken));
}

}  // namespace

TEST_CASE("create_execution posts To, From, Parameters as a JSON string with Basic auth", "[twilio]") {
  FakeStudio fake;
  StudioClient client(options_for(fake.base_url()));
  auto e = client.create_execution(kTo, kFrom, {{"appointment", "Tue 10:00"}, {"name", "Zeke"}});
  REQUIRE(e.is_ok());
  CHECK(e->sid.rfind("FN", 0) == 0);
  CHECK(e->status == "active");
  CHECK(e->contact == kTo);
  CHECK(e->flow_sid == kFakeFlowSid);
  CHECK_FALSE(e->adopted);

  auto requests = fake.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].path == std::string("/v2/Flows/") + kFakeFlowSid + "/Executions");
  CHECK(requests[0].form.at("To") == kTo);
  CHECK(requests[0].form.at("From") == kFrom);
  CHECK(json::parse(requests[0].form.at("Parameters")) ==
        json{{"appointment", "Tue 10:00"}, {"name", "Zeke"}});
  // base64("AC0123456789abcdef0123456789abcdef:tok_5ecret_never_print_me")
  CHECK(requests[0].authorization ==
        "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0b2tfNWVjcmV0X25ldmVyX3ByaW50X21l");
}

TEST_CASE("a classic Twilio error keeps its code and is not retried", "[twilio]") {
  FakeStudio fake;
  fake.script(
      "create",
      respond(400, R"({"code":21211,"message":"The 'To' number 5551234567 is not a valid phone number.",)"
                   R"("more_info":"https://www.twilio.com/docs/errors/21211","status":400})"));
  StudioClient client(options_for(fake.base_url()));
  auto e = client.create_execution("5551234567", kFrom, json::object());
  REQUIRE_FALSE(e.is_ok());
  CHECK(e.status().code() == StatusCode::invalid_argument);
  CHECK(e.error().twilio_code == 21211);
  CHECK(e.error().http_status == 400);
  CHECK_THAT(e.status().message(), Catch::StartsWith("Twilio 21211 (HTTP 400): The 'To' number 5551234567"));
  CHECK(fake.count("create") == 1);
  check_no_secret(e.status());
}

TEST_CASE("an RFC 9457 problem body is understood", "[twilio]") {
  FakeStudio fake;
  fake.script("create",
              respond(422, R"({"type":"https://www.twilio.com/docs/errors/81023","title":"Invalid To/From",)"
                           R"("status":422,"code":81023,"detail":"To and From exceed 300 bytes"})"));
  StudioClient client(options_for(fake.base_url()));
  auto e = client.create_execution(kTo, kFrom, json::object());
  REQUIRE_FALSE(e.is_ok());
  CHECK(e.status().code() == StatusCode::invalid_argument);
  CHECK(e.error().twilio_code == 81023);
  CHECK(e.error().http_status == 422);
  CHECK_THAT(e.status().message(), Catch::Contains("To and From exceed 300 bytes"));
  CHECK(fake.count("create") == 1);
}

TEST_CASE("401 is unauthenticated, not retried, and never echoes the token", "[twilio]") {
  FakeStudio fake;
  fake.script("create", respond(401, R"({"status":401,"message":"Authenticate","code":20003,)"
                                     R"("more_info":"http://www.twilio.com/docs/errors/20003"})"));
  StudioClient client(options_for(fake.base_url()));
  auto e = client.create_execution(kTo, kFrom, json::object());
  REQUIRE_FALSE(e.is_ok());
  CHECK(e.status().code() == StatusCode::unauthenticated);
  CHECK(e.error().twilio_code == 20003);
  CHECK(fake.count("create") == 1);
  check_no_secret(e.status());
}

TEST_CASE("429 and 20429 are retried with backoff until success", "[twilio]") {
  FakeStudio fake;
  fake.script("create", respond(429, R"({"code":20429,"message":"Too Many Requests","status":429})"));
  fake.script("create",
              respond(503, R"({"code":20429,"message":"Too many concurrent requests","status":503})"));
  fake.script("create", [] {
    Reply r = respond(429, "");
    r.retry_after = "0";
    return r;
  }());
  StudioClient client(options_for(fake.base_url()));
  auto e = client.create_execution(kTo, kFrom, json::object());
  REQUIRE(e.is_ok());
  CHECK(fake.count("create") == 4);
  CHECK(fake.executions_created() == 1);
  CHECK(fake.count("list") == 0);  // a 20429 was never processed: no need to check before retrying
}

TEST_CASE("persistent 429 gives up after max_attempts as resource_exhausted", "[twilio]") {
  FakeStudio fake;
  for (int i = 0; i < 10; ++i) fake.script("create", respond(429, R"({"code":20429,"message":"slow down"})"));
  StudioClient client(options_for(fake.base_url()));
  auto e = client.create_execution(kTo, kFrom, json::object());
  REQUIRE_FALSE(e.is_ok());
  CHECK(e.status().code() == StatusCode::resource_exhausted);
  CHECK(e.status().retryable());
  CHECK_THAT(e.status().message(), Catch::Contains("gave up after 4 attempts"));
  CHECK(fake.count("create") == 4);
}

TEST_CASE("a create whose answer is lost is adopted, not repeated", "[twilio]") {
  FakeStudio fake;
  fake.script("create", voxlog::testing::processed_then_silent());
  StudioClient client(options_for(fake.base_url()));
  auto e = client.create_execution(kTo, kFrom, json::object());
  REQUIRE(e.is_ok());
  CHECK(e->adopted);
  CHECK(e->contact == kTo);
  CHECK(fake.executions_created() == 1);
  CHECK(fake.count("create") == 1);
  CHECK(fake.count("list") >= 1);
}

TEST_CASE("a 5xx after the create happened is adopted, a 5xx before it is retried", "[twilio]") {
  FakeStudio fake;
  Reply processed_then_502 = respond(502, R"({"message":"bad gateway"})");
  processed_then_502.apply = true;
  fake.script("create", processed_then_502);
  StudioClient client(options_for(fake.base_url()));
  auto first = client.create_execution(kTo, kFrom, json::object());
  REQUIRE(first.is_ok());
  CHECK(first->adopted);
  CHECK(fake.executions_created() == 1);
  CHECK(fake.count("create") == 1);

  fake.script("create", respond(500, R"({"message":"internal"})"));  // not processed
  auto second = client.create_execution("+905321234567", kFrom, json::object());
  REQUIRE(second.is_ok());
  CHECK_FALSE(second->adopted);
  CHECK(fake.executions_created() == 2);
  CHECK(fake.count("create") == 3);
}

TEST_CASE("an unknown outcome that cannot be checked is not retried", "[twilio]") {
  FakeStudio fake;
  fake.script("create", voxlog::testing::processed_then_silent());
  for (int i = 0; i < 10; ++i)
    fake.script("list", respond(401, R"({"code":20003,"message":"Authenticate"})"));
  StudioClient client(options_for(fake.base_url()));
  auto e = client.create_execution(kTo, kFrom, json::object());
  REQUIRE_FALSE(e.is_ok());
  CHECK(e.status().code() == StatusCode::deadline_exceeded);
  CHECK_THAT(e.status().message(), Catch::Contains("unknown outcome"));
  CHECK(fake.count("create") == 1);
  CHECK(fake.executions_created() == 1);
  check_no_secret(e.status());
}

TEST_CASE("connection refused is retried, then reported as unavailable", "[twilio]") {
  std::string dead_url;
  {
    FakeStudio gone;
    dead_url = gone.base_url();
  }
  StudioClient client(options_for(dead_url));
  auto e = client.create_execution(kTo, kFrom, json::object());
  REQUIRE_FALSE(e.is_ok());
  CHECK(e.status().code() == StatusCode::unavailable);
  CHECK(e.error().http_status == 0);
  CHECK_THAT(e.status().message(), Catch::Contains("gave up after 4 attempts"));
  CHECK_THAT(e.status().message(), Catch::Contains("cannot reach Twilio"));
  check_no_secret(e.status());
}

TEST_CASE("fetch and end an execution", "[twilio]") {
  FakeStudio fake;
  StudioClient client(options_for(fake.base_url()));
  auto created = client.create_execution(kTo, kFrom, json::object());
  REQUIRE(created.is_ok());
  auto fetched = client.fetch_execution(created->sid);
  REQUIRE(fetched.is_ok());
  CHECK(fetched->status == "active");
  auto ended = client.end_execution(created->sid);
  REQUIRE(ended.is_ok());
  CHECK(ended->status == "ended");
  CHECK(fake.requests().back().form.at("Status") == "ended");
  CHECK(client.fetch_execution(created->sid)->status == "ended");

  auto missing = client.fetch_execution("FN99999999999999999999999999999999");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == StatusCode::not_found);
  CHECK(missing.error().twilio_code == 20404);

  auto injected = client.fetch_execution("../../Accounts");
  REQUIRE_FALSE(injected.is_ok());
  CHECK(injected.status().code() == StatusCode::invalid_argument);
}

TEST_CASE("active_executions_for follows every page and filters by contact", "[twilio]") {
  FakeStudio fake;
  for (int i = 0; i < 120; ++i)
    fake.add_execution("+1650253" + std::to_string(1000 + i), "active", "2025-01-01T00:00:00Z");
  std::string mine = fake.add_execution(kTo, "active", "2025-01-02T00:00:00Z");
  fake.add_execution(kTo, "ended", "2025-01-01T00:00:00Z");
  StudioClient client(options_for(fake.base_url()));
  auto active = client.active_executions_for(kTo);
  REQUIRE(active.is_ok());
  REQUIRE(active->size() == 1);
  CHECK(active->front().sid == mine);
  CHECK(fake.count("list") == 3);  // 121 active at 50 per page; next_page_url re-rooted on the fake
}

TEST_CASE("flows: validate, create, update", "[twilio]") {
  FakeStudio fake;
  StudioClient client(options_for(fake.base_url()));
  voxlog::FlowRequest request;
  request.friendly_name = "voxlog reminders";
  request.definition = {{"description", "d"},
                        {"states", json::array()},
                        {"initial_state", "Trigger"},
                        {"flags", {{"allow_concurrent_calls", true}}}};
  auto valid = client.validate_flow(request);
  REQUIRE(valid.is_ok());
  CHECK(valid->valid);
  auto created = client.create_flow(request);
  INFO(created.status().to_string());
  REQUIRE(created.is_ok());
  CHECK(created->sid.rfind("FW", 0) == 0);
  CHECK(created->revision == 1);
  auto updated = client.update_flow(created->sid, request);
  REQUIRE(updated.is_ok());
  CHECK(updated->revision == 2);
  auto sent = fake.requests().back();
  CHECK(sent.form.at("FriendlyName") == "voxlog reminders");
  CHECK(sent.form.at("Status") == "published");
  CHECK(json::parse(sent.form.at("Definition")) == request.definition);

  fake.script("validate", respond(400, R"({"code":20001,"message":"Invalid flow definition",)"
                                       R"("details":{"errors":[{"message":"state 'x' not found"}]}})"));
  auto invalid = client.validate_flow(request);
  REQUIRE_FALSE(invalid.is_ok());
  CHECK(invalid.status().code() == StatusCode::invalid_argument);
  CHECK_THAT(invalid.status().message(), Catch::Contains("state 'x' not found"));

  fake.script("create_flow", voxlog::testing::processed_then_silent());
  auto twice = client.create_flow(request);
  REQUIRE_FALSE(twice.is_ok());
  CHECK_THAT(twice.status().message(), Catch::Contains("outcome unknown"));
  CHECK(fake.count("create_flow") == 2);  // the earlier create plus this one, never repeated
}
