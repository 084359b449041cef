// import_json / import_csv options (actors/campaign/contact_import.hpp): retries, the calling window,
// start_at, the pace and the name, from JSON and from the CSV query, each validated before anything is
// created. The rows and the creation events: contact_import_test.cpp.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "actors/campaign/contact_import.hpp"
#include "tests/actors/campaign/import_fixtures.hpp"
#include "tests/actors/campaign/test_time.hpp"

using namespace voxlog;
using nlohmann::json;
using test::kAnn;
using test::one_contact;
using test::utc_ms;

namespace {

Status json_error(json options) {
  auto r = import_json(one_contact(std::move(options)), ImportDefaults{});
  REQUIRE_FALSE(r);
  return r.status();
}

Status csv_error(std::map<std::string, std::string> query) {
  auto r = import_csv(std::string("phone\n") + kAnn + "\n", query, ImportDefaults{});
  REQUIRE_FALSE(r);
  return r.status();
}

CampaignPolicy json_policy(json options) {
  auto r = import_json(one_contact(std::move(options)), ImportDefaults{});
  INFO((r ? "" : r.status().message()));
  REQUIRE(r);
  return r->policy;
}

CampaignPolicy csv_policy(std::map<std::string, std::string> query, ImportDefaults d = {}) {
  auto r = import_csv(std::string("phone\n") + kAnn + "\n", query, d);
  INFO((r ? "" : r.status().message()));
  REQUIRE(r);
  return r->policy;
}

}  // namespace

// ---- options -------------------------------------------------------------------------------------------

TEST_CASE("import: without options, the policy is one attempt, no window, at the default pace") {
  ImportDefaults d;
  d.default_cps = 3;
  auto r = import_json(one_contact(), d);
  REQUIRE(r);
  CHECK(r->policy.max_attempts == 1);
  CHECK_FALSE(r->policy.has_window());
  CHECK(r->policy.window_days == 0x7f);
  CHECK(r->policy.start_at_ms == 0);
  CHECK(r->policy.cps == 3);
  CHECK(r->policy.retry_on == std::vector<std::string>{"busy", "no-answer", "failed"});
  CHECK_FALSE(r->scheduled);
  CHECK(r->name.empty());
}

TEST_CASE("import: the retry options, from JSON and from the CSV query") {
  CampaignPolicy p =
      json_policy({{"name", "Flu jabs"},
                   {"retry", {{"max_attempts", 3}, {"spacing_s", 600}, {"on", {"busy", "no_answer"}}}}});
  CHECK(p.max_attempts == 3);
  CHECK(p.retry_spacing_s == 600);
  CHECK(p.retry_on == std::vector<std::string>{"busy", "no-answer"});  // no_answer read as no-answer

  CampaignPolicy q =
      csv_policy({{"max_attempts", "4"}, {"retry_spacing_s", "120"}, {"retry_on", "machine,no-outcome"}});
  CHECK(q.max_attempts == 4);
  CHECK(q.retry_spacing_s == 120);
  CHECK(q.retry_on == std::vector<std::string>{"machine", "no-outcome"});
}

TEST_CASE("import: a bad max_attempts is invalid_argument naming it") {
  for (json bad : {json(0), json(11), json("x"), json(2.5), json("-1"), json("")}) {
    INFO(bad.dump());
    Status s = json_error({{"retry", {{"max_attempts", bad}}}});
    CHECK(s.code() == StatusCode::invalid_argument);
    CHECK_THAT(s.message(), Catch::Contains("max_attempts"));
  }
  for (const char* bad : {"0", "11", "three", "2.5"}) {
    INFO(bad);
    Status s = csv_error({{"max_attempts", bad}});
    CHECK(s.code() == StatusCode::invalid_argument);
    CHECK_THAT(s.message(), Catch::Contains("max_attempts"));
  }
  CHECK(json_error({{"retry", "often"}}).code() == StatusCode::invalid_argument);
  CHECK_THAT(json_error({{"retry", {{"spacing_s", 0}}}}).message(), Catch::Contains("spacing_s"));
}

TEST_CASE("import: retry_on with an unknown word is refused") {
  Status s = json_error({{"retry", {{"on", {"busy", "sometimes"}}}}});
  CHECK(s.code() == StatusCode::invalid_argument);
  CHECK_THAT(s.message(), Catch::Contains("'sometimes'"));
  Status c = csv_error({{"retry_on", "busy,weekends"}});
  CHECK(c.code() == StatusCode::invalid_argument);
  CHECK_THAT(c.message(), Catch::Contains("'weekends'"));
  CHECK_THAT(json_error({{"retry", {{"on", "busy"}}}}).message(), Catch::Contains("retry.on"));
}

TEST_CASE("import: a window from the CSV query and from JSON, in minutes after midnight") {
  CampaignPolicy p = csv_policy({{"window", "09:00-20:00"}});
  CHECK(p.window_from_min == 9 * 60);
  CHECK(p.window_to_min == 20 * 60);
  CHECK(p.window_days == 0x7f);
  CampaignPolicy j = json_policy({{"window", {{"from", "22:30"}, {"to", "06:00"}}}});
  CHECK(j.window_from_min == 22 * 60 + 30);
  CHECK(j.window_to_min == 6 * 60);
  CHECK(json_policy({{"window", {{"from", "08:00"}, {"to", "24:00"}}}}).window_to_min == 24 * 60);
}

TEST_CASE("import: a bad window is invalid_argument naming it") {
  Status s = csv_error({{"window", "9-20"}});
  CHECK(s.code() == StatusCode::invalid_argument);
  CHECK_THAT(s.message(), Catch::Contains("window.from"));
  CHECK_THAT(s.message(), Catch::Contains("'9'"));
  CHECK_THAT(csv_error({{"window", "0900"}}).message(), Catch::Contains("window"));
  CHECK_THAT(csv_error({{"window", "09:00-20:60"}}).message(), Catch::Contains("window.to"));
  CHECK_THAT(csv_error({{"window", "25:00-26:00"}}).message(), Catch::Contains("window.from"));
  CHECK_THAT(csv_error({{"window", "09:00-09:00"}}).message(), Catch::Contains("differ"));
  CHECK_THAT(csv_error({{"window", "09:00x-20:00"}}).message(), Catch::Contains("window.from"));
  CHECK_THAT(csv_error({{"days", "mon-fri"}}).message(), Catch::Contains("window"));  // days need a window
  CHECK(json_error({{"window", {{"from", "09:00"}}}}).code() == StatusCode::invalid_argument);
  CHECK(json_error({{"window", {{"from", 9}, {"to", 20}}}}).code() == StatusCode::invalid_argument);
}

TEST_CASE("import: window days as a range, a list, numbers, or a JSON array") {
  auto days = [](const char* d) { return csv_policy({{"window", "09:00-20:00"}, {"days", d}}).window_days; };
  CHECK(days("mon-fri") == 0x1f);
  CHECK(days("sat,sun") == 0x60);
  CHECK(days("Mon, Wed, Fri") == 0x15);
  CHECK(days("monday,tuesday") == 0x03);
  CHECK(days("1-5") == 0x1f);
  CHECK(days("fri-mon") == (0x10 | 0x20 | 0x40 | 0x01));  // wraps over the weekend
  auto json_days = [](json d) {
    return json_policy({{"window", {{"from", "09:00"}, {"to", "20:00"}, {"days", d}}}}).window_days;
  };
  CHECK(json_days(json::array({1, 2})) == 0x03);
  CHECK(json_days(json::array({"sat", "sun"})) == 0x60);
  CHECK(json_days("mon-fri") == 0x1f);
  CHECK(json_days(json::array({7})) == 0x40);
}

TEST_CASE("import: a bad weekday is invalid_argument naming it") {
  Status s = csv_error({{"window", "09:00-20:00"}, {"days", "mon,funday"}});
  CHECK(s.code() == StatusCode::invalid_argument);
  CHECK_THAT(s.message(), Catch::Contains("days"));
  CHECK_THAT(s.message(), Catch::Contains("funday"));
  CHECK_THAT(
      json_error({{"window", {{"from", "09:00"}, {"to", "20:00"}, {"days", json::array({8})}}}}).message(),
      Catch::Contains("days"));
  CHECK_THAT(json_error({{"window", {{"from", "09:00"}, {"to", "20:00"}, {"days", 5}}}}).message(),
             Catch::Contains("days"));
  CHECK_THAT(json_error({{"window", {{"from", "09:00"}, {"to", "20:00"}, {"days", ","}}}}).message(),
             Catch::Contains("days"));
}

TEST_CASE("import: start_at with Z or an offset, and scheduled when it is later than now") {
  ImportDefaults d;
  d.now_ms = utc_ms(2026, 12, 1);
  auto z = import_csv(std::string("phone\n") + kAnn + "\n", {{"start_at", "2026-12-08T09:00:00Z"}}, d);
  REQUIRE(z);
  CHECK(z->policy.start_at_ms == utc_ms(2026, 12, 8, 9));
  CHECK(z->scheduled);
  auto offset = import_json(one_contact({{"start_at", "2026-12-08T10:00:00+01:00"}}), d);
  REQUIRE(offset);
  CHECK(offset->policy.start_at_ms == utc_ms(2026, 12, 8, 9));
  auto west = import_json(one_contact({{"start_at", "2026-12-08T04:00-05:00"}}), d);
  REQUIRE(west);
  CHECK(west->policy.start_at_ms == utc_ms(2026, 12, 8, 9));

  d.now_ms = utc_ms(2026, 12, 9);
  auto past = import_json(one_contact({{"start_at", "2026-12-08T09:00:00.250Z"}}), d);
  REQUIRE(past);
  CHECK(past->policy.start_at_ms == utc_ms(2026, 12, 8, 9));
  CHECK_FALSE(past->scheduled);
}

TEST_CASE("import: a start_at without a zone, or not a time, is refused") {
  for (const char* bad : {"2026-12-08T09:00:00", "tomorrow", "2026-12-08T09:00:00 London", "2026-12-08"}) {
    INFO(bad);
    Status s = json_error({{"start_at", bad}});
    CHECK(s.code() == StatusCode::invalid_argument);
    CHECK_THAT(s.message(), Catch::Contains("start_at"));
  }
  CHECK(json_error({{"start_at", 1765184400000}}).code() == StatusCode::invalid_argument);
}

TEST_CASE("import: cps above Studio's 20 or not above 0 is refused, the default is capped at 20") {
  CHECK_THAT(json_error({{"cps", 25}}).message(), Catch::Contains("cps"));
  CHECK_THAT(csv_error({{"cps", "21"}}).message(), Catch::Contains("cps"));
  CHECK_THAT(json_error({{"cps", 0}}).message(), Catch::Contains("cps"));
  CHECK_THAT(csv_error({{"cps", "fast"}}).message(), Catch::Contains("cps"));
  CHECK(json_policy({{"cps", 20}}).cps == 20);
  CHECK(csv_policy({{"cps", "2.5"}}).cps == 2.5);
  ImportDefaults d;
  d.default_cps = 50;
  CHECK(csv_policy({}, d).cps == 20);
}

TEST_CASE("import: name at most 200 characters, the body an object with a contacts list") {
  CHECK_THAT(json_error({{"name", std::string(201, 'x')}}).message(), Catch::Contains("name"));
  CHECK_THAT(json_error({{"name", 5}}).message(), Catch::Contains("name"));
  CHECK(import_json(json::array(), ImportDefaults{}).status().code() == StatusCode::invalid_argument);
  auto no_list = import_json({{"name", "x"}}, ImportDefaults{});
  REQUIRE_FALSE(no_list);
  CHECK_THAT(no_list.status().message(), Catch::Contains("contacts"));
  auto empty = import_json({{"contacts", json::array()}}, ImportDefaults{});
  REQUIRE_FALSE(empty);
  CHECK_THAT(empty.status().message(), Catch::Contains("no contacts"));
}
