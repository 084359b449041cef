// The Call row's JSON: to_json_text() writes exactly the bytes of to_json(row).dump(), which the view
// stores and `voxlog replay --check` compares, and the row reads back unchanged.
#include <ctime>
#include <iomanip>
#include <random>
#include <sstream>
#include <vector>

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

TEST_CASE("iso8601_ms spells a time as the C library's calendar does", "[projections]") {
  auto reference = [](std::int64_t ms) {  // an independent oracle: gmtime_r's fields, printed by iostreams
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::ostringstream out;
    out << std::setfill('0') << std::setw(4) << tm.tm_year + 1900 << '-' << std::setw(2) << tm.tm_mon + 1
        << '-' << std::setw(2) << tm.tm_mday << 'T' << std::setw(2) << tm.tm_hour << ':' << std::setw(2)
        << tm.tm_min << ':' << std::setw(2) << tm.tm_sec << '.' << std::setw(3) << ms % 1000 << 'Z';
    return out.str();
  };
  // Epoch, leap days (2000 is a leap year, 2100 is not), ends of years, the last ms of year 9999, and the
  // first ms of year 10000 (where the fast path ends).
  std::vector<std::int64_t> samples = {0,
                                       1,
                                       999,
                                       86399999,
                                       951782400000,
                                       951868799999,
                                       4107542400000,
                                       4107628800000,
                                       1767225599999,
                                       253402300799999,
                                       253402300800000};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) samples.push_back(static_cast<std::int64_t>(rng() % 253402300800000));
  for (std::int64_t ms : samples) {
    INFO(ms);
    REQUIRE(iso8601_ms(ms) == reference(ms));
  }
  CHECK(iso8601_ms(951782400000) == "2000-02-29T00:00:00.000Z");
}
