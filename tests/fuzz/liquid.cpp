// Fuzz target: the simulator's Liquid renderer (tools/simulator/liquid.hpp), which renders every widget
// of a flow with what a request and earlier widgets returned. The input is the template; the scope is
// fixed and has every kind of value a flow sees (strings, numbers, arrays, nested objects, nulls).
// Properties: nothing crashes or hangs; text without "{{" comes out unchanged.
#include <chrono>

#include "tests/fuzz/fuzz_check.hpp"
#include "tools/simulator/liquid.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const nlohmann::json scope = nlohmann::json::parse(R"({
    "flow": {"sid": "FW00000000000000000000000000000000", "channel": {"address": "+441234567890"},
             "data": {"name": "Ayşe", "appointment": "1700000000", "count": 3, "ratio": 0.5,
                      "list": ["a", 2, null, {"k": "v"}], "empty": "", "no": false, "nothing": null}},
    "contact": {"channel": {"address": "+447911123456"}},
    "trigger": {"request": {"parameters": {"to": "+447911123456"}}},
    "widgets": {"call-1": {"CallSid": "CA00000000000000000000000000000000", "Digits": "1",
                           "outputs": [[1, [2, [3]]], {"a": {"b": {"c": "deep"}}}]}}
  })");
  std::string_view text = as_text(data, size);
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  std::string out = voxlog::sim::render_liquid(text, scope, now);
  if (text.find("{{") == std::string_view::npos) FUZZ_CHECK(out == text);
  return 0;
}
