#include "tools/simulator/liquid.hpp"

#include <catch2/catch.hpp>

using voxlog::sim::render_liquid;

namespace {

const nlohmann::json kScope = {
    {"flow",
     {{"sid", "FN123"},
      {"flow_sid", "FW456"},
      {"data", {{"public_url", "http://127.0.0.1:9"}, {"count", 2}}},
      {"variables", {{"attempt", "1"}}},
      {"channel", {{"address", "+441234567890"}}}}},
    {"contact", {{"channel", {{"address", "+447700900001"}}}}},
    {"widgets", {{"happy-outgoing", {{"Digits", "1"}}}, {"call", {{"CallSid", "CA1"}}}}},
};
// 2025-11-25T06:00:00Z
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1764050400));

std::string render(const std::string& text) {
  return render_liquid(text, kScope, kNow);
}

}  // namespace

TEST_CASE("variables render raw, unknown ones render empty", "[liquid]") {
  CHECK(render("{{flow.sid}}/{{ flow.flow_sid }}") == "FN123/FW456");
  CHECK(render("to {{contact.channel.address}} from {{flow.channel.address}}") ==
        "to +447700900001 from +441234567890");
  CHECK(render("{{widgets.happy-outgoing.Digits}}") == "1");
  CHECK(render("[{{widgets.nope.Digits}}][{{flow.data.missing}}]") == "[][]");
  CHECK(render("{{flow.data.public_url}}/api") == "http://127.0.0.1:9/api");
  CHECK(render("{{flow.data.count}}") == "2");
  CHECK(render("no tags {% if x %} kept") == "no tags {% if x %} kept");
  CHECK(render("{\"a\": \"{{flow.sid}}\"}") == "{\"a\": \"FN123\"}");
}

TEST_CASE("filters: default, plus, minus, replace, upcase, downcase", "[liquid]") {
  CHECK(render("{{flow.data.message | default: 'Hello there'}}") == "Hello there");
  CHECK(render("{{flow.data.message | default: \"We're calling\"}}") == "We're calling");
  CHECK(render("{{flow.sid | default: 'x'}}") == "FN123");
  CHECK(render("{{flow.variables.attempt | plus: 1}}") == "2");
  CHECK(render("{{flow.variables.missing | plus: 1}}") == "1");
  CHECK(render("{{flow.data.count | minus: 5}}") == "-3");
  CHECK(render("{{flow.sid | replace: 'FN', 'fn-'}}") == "fn-123");
  CHECK(render("{{flow.sid | downcase}}|{{'abc' | upcase}}") == "fn123|ABC");
  CHECK(render("{{flow.sid | no_such_filter: 1}}") == "FN123");
}

TEST_CASE("date renders now and epoch seconds in UTC", "[liquid]") {
  CHECK(render("{{'now' | date: '%s'}}") == "1764050400");
  CHECK(render("{{now | date: '%Y-%m-%dT%H:%M:%SZ'}}") == "2025-11-25T06:00:00Z");
  CHECK(render("{{flow.sid | replace: 'N', ''}}_{{now | date: '%s'}}") == "F123_1764050400");
  CHECK(render("{{ 0 | date: '%Y' }}") == "1970");
}

TEST_CASE("prepend and append, a missing value reads as empty", "[liquid]") {
  CHECK(render("{{flow.sid | prepend: 'id ' | append: '.'}}") == "id FN123.");
  CHECK(render("{{flow.data.missing | prepend: 'x'}}") == "x");
  CHECK(render("{{flow.data.count | append: ' calls'}}") == "2 calls");
}

TEST_CASE("default with a variable argument, and flow.json's optional-phrase idiom", "[liquid]") {
  CHECK(render("{{flow.data.message | default: flow.variables.attempt}}") == "1");
  // " on <value>" when the value is set, nothing when it is missing or empty (default maps both to ~).
  const std::string on_day = R"({{flow.data.day | default: "~" | prepend: " on " | replace: " on ~", ""}})";
  CHECK(render("appointment" + on_day + ".") == "appointment.");
  nlohmann::json scope = kScope;
  scope["flow"]["data"]["day"] = "Tuesday 8 December";
  CHECK(render_liquid("appointment" + on_day + ".", scope, kNow) == "appointment on Tuesday 8 December.");
  scope["flow"]["data"]["day"] = "";
  CHECK(render_liquid("appointment" + on_day + ".", scope, kNow) == "appointment.");
}
