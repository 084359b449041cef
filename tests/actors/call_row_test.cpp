// The Call row's JSON: to_json_text() writes exactly the bytes of to_json(row).dump(), which the view
// stores and `voxlog replay --check` compares, and the row reads back unchanged.
#include <random>

#include <catch2/catch.hpp>

#include "projections/call_row.hpp"

using namespace voxlog;

namespace {

std::string random_text(std::mt19937_64& rng) {
  static const char* const kPieces[] = {"",          "CA0123", "in-progress",    "+447911123456",
                                        "quo\"te",   "back\\", "tab\tnl\nret\r", "\x01\x1f\x7f",
                                        "ünïcödé 😀", "\b\f"};
  std::string s;
  for (int i = 0, n = static_cast<int>(rng() % 3); i < n; ++i) s += kPieces[rng() % 10];
  return s;
}

}  // namespace

TEST_CASE("to_json_text writes the bytes of to_json().dump() and reads back", "[projections]") {
  std::mt19937_64 rng(2026);
  for (int i = 0; i < 2000; ++i) {
    CallRow r;
    r.id = rng() % 100000;
    r.stream = "call-FN" + random_text(rng);
    for (std::string* field :
         {&r.execution_sid, &r.call_sid, &r.to, &r.from, &r.status, &r.direction, &r.dtmf_digits,
          &r.recording_url, &r.answered_by, &r.outcome, &r.request_id, &r.batch_id})
      *field = random_text(rng);
    r.duration = static_cast<std::int64_t>(rng() % 4000) - 5;
    r.last_sequence_number = static_cast<std::int64_t>(rng() % 9) - 1;
    r.created_ms = static_cast<std::int64_t>(rng() % 4102444800000);
    r.updated_ms = r.created_ms + static_cast<std::int64_t>(rng() % 100000);
    r.last_seq = rng();
    r.version = rng() % 1000;
    std::string expected = to_json(r).dump();
    INFO(expected);
    REQUIRE(to_json_text(r) == expected);
    REQUIRE(to_json(call_row_from_json(nlohmann::json::parse(expected))).dump() == expected);
  }
}
