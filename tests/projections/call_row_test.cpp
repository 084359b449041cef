// The Call row's JSON: to_json_text() writes exactly the bytes of to_json(row).dump(), which the view
// stores and `voxlog replay --check` compares, and the row reads back unchanged.
#include <ctime>
#include <iomanip>
#include <random>
#include <sstream>
#include <vector>

#include <catch2/catch.hpp>

#include "eventstore/text.hpp"
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
  using K = CallRowField::Kind;
  std::mt19937_64 rng(2026);
  for (int i = 0; i < 2000; ++i) {
    CallRow r;
    for (const auto& f : call_row_fields()) {  // every field, from the row's one table
      switch (f.kind) {
        case K::text_or_null:
        case K::text: r.*f.text = random_text(rng); break;
        case K::integer: r.*f.integer = static_cast<std::int64_t>(rng() % 4102444800000) - 5; break;
        case K::count: r.*f.count = rng(); break;
        case K::time: break;
      }
    }
    std::string expected = to_json(r).dump();
    INFO(expected);
    REQUIRE(to_json_text(r) == expected);
    REQUIRE(to_json(call_row_from_json(nlohmann::json::parse(expected))).dump() == expected);
  }
}

TEST_CASE("the row's table lists every field once, in key order, and a known row has known bytes",
          "[projections]") {
  const auto& fields = call_row_fields();
  for (std::size_t i = 1; i < fields.size(); ++i) CHECK(std::string(fields[i - 1].key) < fields[i].key);
  CallRow r;
  r.id = 7;
  r.stream = "call-FN1";
  r.execution_sid = "FN1";
  r.call_sid = "CA1";
  r.to = "+447911123456";
  r.from = "+15005550006";
  r.status = "completed";
  r.direction = "outbound-api";
  r.duration = 49;
  r.dtmf_digits = "1";
  r.recording_url = "https://rec";
  r.answered_by = "human";
  r.outcome = "confirmed";
  r.request_id = "RQ1";
  r.batch_id = "BT1";
  r.account = "uk";
  r.region = "uk";
  r.last_sequence_number = 3;
  r.created_ms = 1711017000000;
  r.updated_ms = 1711017049000;
  r.last_seq = 12;
  r.version = 9;
  // Written by hand: a field missing from the table would be missing here.
  CHECK(
      to_json_text(r) ==
      R"({"account":"uk","answeredBy":"human","batchId":"BT1","callSid":"CA1","createdAt":"2024-03-21T10:30:00.000Z",)"
      R"("createdMs":1711017000000,"digitsAwaitingAction":null,"direction":"outbound-api","dtmfDigits":"1","duration":49,"executionSid":"FN1",)"
      R"("from":"+15005550006","id":7,"lastSeq":12,"lastSequenceNumber":3,"outcome":"confirmed",)"
      R"("recordingUrl":"https://rec","region":"uk","requestId":"RQ1","status":"completed","stream":"call-FN1",)"
      R"("to":"+447911123456","updatedAt":"2024-03-21T10:30:49.000Z","updatedMs":1711017049000,"version":9})");
  CallRow back = call_row_from_json(nlohmann::json::parse(to_json_text(r)));
  CHECK(to_json_text(back) == to_json_text(r));
  CHECK(call_row_from_json(nlohmann::json::object()).last_sequence_number == -1);
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
