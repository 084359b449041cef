// import_json / import_csv / import_numbers / creation_events (actors/campaign/contact_import.hpp): rows
// refused one by one with their spreadsheet row number, zones resolved once, and the events that create the
// campaign, in chunks. The options (retries, window, start_at, pace): contact_import_options_test.cpp.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "actors/campaign/contact_import.hpp"
#include "projections/event_types.hpp"
#include "tests/actors/campaign/import_fixtures.hpp"

using namespace voxlog;
using nlohmann::json;
using test::kAnn;
using test::kBob;
using test::kUs;
using test::one_contact;

namespace {

// The GB mobile 07400 nnnnnn, as E.164.
std::string gb_mobile(int n) {
  std::string digits = std::to_string(n);
  return "+447400" + std::string(6 - digits.size(), '0') + digits;
}

}  // namespace

// ---- rows ----------------------------------------------------------------------------------------------

TEST_CASE("import_csv: rows refused with their spreadsheet row numbers (the header is row 1)") {
  std::string csv =
      "phone,name\r\n"
      "+447400123456,Ann\r\n"  // row 2
      "not-a-number,Bob\r\n"   // row 3
      "07400 123456,Cat\r\n"   // row 4: Ann's number written nationally
      ",Dan\r\n"               // row 5
      "+12015550123,Eve\r\n";  // row 6
  auto r = import_csv(csv, {}, ImportDefaults{});
  REQUIRE(r);
  CHECK(r->total_rows == 5);
  REQUIRE(r->contacts.size() == 2);
  CHECK(r->contacts[0].phone == kAnn);
  CHECK(r->contacts[1].phone == kUs);
  REQUIRE(r->rejected.size() == 3);
  CHECK(r->rejected[0].row == 3);
  CHECK(r->rejected[0].phone == "not-a-number");
  CHECK_THAT(r->rejected[0].reason, Catch::Contains("not-a-number"));
  CHECK(r->rejected[1].row == 4);
  CHECK(r->rejected[1].phone == "07400 123456");  // as given
  CHECK(r->rejected[1].reason == "duplicate of row 2");
  CHECK(r->rejected[2].row == 5);
  CHECK(r->rejected[2].reason == "no phone number");
  CHECK(to_json(r->rejected[1]) ==
        json{{"row", 4}, {"phone", "07400 123456"}, {"reason", "duplicate of row 2"}});
}

TEST_CASE("import_csv: blank lines keep the row numbers a spreadsheet shows") {
  std::string csv = std::string("phone\n\n") + kAnn + "\n\nbad\n";
  auto r = import_csv(csv, {}, ImportDefaults{});
  REQUIRE(r);
  REQUIRE(r->rejected.size() == 1);
  CHECK(r->rejected[0].row == 5);
  CHECK(r->total_rows == 2);
}

TEST_CASE("import_json: rows refused with their numbers (the first contact is row 1)") {
  json body = {{"contacts",
                {{{"phone", kAnn}, {"name", "Ann"}},
                 {{"phone", "12"}},
                 {{"phone", "+44 7400 123456"}},
                 42,
                 {{"name", "no phone"}},
                 {{"phone", kBob}}}}};
  auto r = import_json(body, ImportDefaults{});
  REQUIRE(r);
  CHECK(r->total_rows == 6);
  REQUIRE(r->contacts.size() == 2);
  CHECK(r->contacts[1].phone == kBob);
  REQUIRE(r->rejected.size() == 4);
  CHECK(r->rejected[0].row == 2);
  CHECK(r->rejected[0].phone == "12");
  CHECK(r->rejected[1].row == 3);
  CHECK(r->rejected[1].reason == "duplicate of row 1");
  CHECK(r->rejected[2].row == 4);
  CHECK_THAT(r->rejected[2].reason, Catch::Contains("object"));
  CHECK(r->rejected[3].row == 5);
  CHECK(r->rejected[3].reason == "no phone number");
}

TEST_CASE("import_csv: the header must name a phone column") {
  auto r = import_csv("name,number\nAnn,+447400123456\n", {}, ImportDefaults{});
  REQUIRE_FALSE(r);
  CHECK(r.status().code() == StatusCode::invalid_argument);
  CHECK_THAT(r.status().message(), Catch::Contains("'phone' column"));
  CHECK_THAT(r.status().message(), Catch::Contains("name,number"));

  for (const char* header : {" Phone ", "PHONE_NUMBER", "phonenumber"}) {
    INFO(header);
    auto ok = import_csv(std::string("name,") + header + "\nAnn," + kAnn + "\n", {}, ImportDefaults{});
    REQUIRE(ok);
    REQUIRE(ok->contacts.size() == 1);
    CHECK(ok->contacts[0].phone == kAnn);
    CHECK(ok->contacts[0].fields == json{{"name", "Ann"}});
  }
  auto empty = import_csv("", {}, ImportDefaults{});
  REQUIRE_FALSE(empty);
  CHECK_THAT(empty.status().message(), Catch::Contains("empty"));
  auto header_only = import_csv("phone\r\n", {}, ImportDefaults{});
  REQUIRE_FALSE(header_only);
  CHECK_THAT(header_only.status().message(), Catch::Contains("no contacts"));
  auto broken = import_csv("phone,name\n+447400123456,\"Ann\n", {}, ImportDefaults{});
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.status().message(), Catch::Contains("line 2"));
}

TEST_CASE("import: more than max_contacts rows is invalid_argument, exactly max_contacts is fine") {
  ImportDefaults d;
  d.max_contacts = 3;
  std::string csv = "phone\n" + gb_mobile(1) + "\n" + gb_mobile(2) + "\nbad\n";
  auto three = import_csv(csv, {}, d);
  REQUIRE(three);  // rejected rows count too, and three is the limit
  CHECK(three->total_rows == 3);
  auto four = import_csv(csv + gb_mobile(4) + "\n", {}, d);
  REQUIRE_FALSE(four);
  CHECK(four.status().code() == StatusCode::invalid_argument);
  CHECK_THAT(four.status().message(), Catch::Contains("at most 3"));

  json list = json::array();
  for (int i = 1; i <= 4; ++i) list.push_back({{"phone", gb_mobile(i)}});
  auto too_many = import_json({{"contacts", list}}, d);
  REQUIRE_FALSE(too_many);
  CHECK_THAT(too_many.status().message(), Catch::Contains("at most 3"));
  list.erase(list.size() - 1);
  CHECK(import_json({{"contacts", list}}, d));
}

TEST_CASE("import: zones are the contact's tz when known, else its number's country") {
  json body = {{"contacts",
                {{{"phone", kAnn}, {"tz", "America/New_York"}},
                 {{"phone", kBob}},
                 {{"phone", kUs}},
                 {{"phone", gb_mobile(99)}, {"tz", "Mars/Olympus_Mons"}}}}};
  auto r = import_json(body, ImportDefaults{});
  REQUIRE(r);
  REQUIRE(r->contacts.size() == 4);
  CHECK(r->contacts[0].zones == std::vector<std::string>{"America/New_York"});
  CHECK(r->contacts[1].zones == std::vector<std::string>{"region:GB"});
  CHECK(r->contacts[2].zones == std::vector<std::string>{"region:US"});
  CHECK(r->contacts[3].zones == std::vector<std::string>{"region:GB"});  // an unknown tz is ignored

  auto csv =
      import_csv(std::string("phone,tz\n") + kAnn + ",Europe/Paris\n" + kUs + ",\n", {}, ImportDefaults{});
  REQUIRE(csv);
  CHECK(csv->contacts[0].zones == std::vector<std::string>{"Europe/Paris"});
  CHECK(csv->contacts[1].zones == std::vector<std::string>{"region:US"});
}

TEST_CASE("import: national numbers are read in the default region") {
  ImportDefaults d;
  d.default_region = "US";
  auto r = import_csv("phone\n(201) 555-0123\n07400 123456\n", {}, d);
  REQUIRE(r);
  REQUIRE(r->contacts.size() == 1);
  CHECK(r->contacts[0].phone == kUs);
  REQUIRE(r->rejected.size() == 1);
  CHECK(r->rejected[0].row == 3);
}

TEST_CASE("import: the other columns are kept as text, the phone is not among them") {
  json body = {{"contacts",
                {{{"phone", kAnn},
                  {"name", "Ann"},
                  {"age", 42},
                  {"vip", true},
                  {"note", nullptr},
                  {"appointment_at", "2026-12-08T14:30:00Z"}}}}};
  auto r = import_json(body, ImportDefaults{});
  REQUIRE(r);
  REQUIRE(r->contacts.size() == 1);
  CHECK(r->contacts[0].fields ==
        json{{"name", "Ann"}, {"age", "42"}, {"vip", "true"}, {"appointment_at", "2026-12-08T14:30:00Z"}});

  auto csv = import_csv(std::string("Name,Phone,Clinic,Code\nAnn,") + kAnn + ",,007\n", {}, ImportDefaults{});
  REQUIRE(csv);
  REQUIRE(csv->contacts.size() == 1);
  CHECK(csv->contacts[0].fields == json{{"name", "Ann"}, {"code", "007"}});  // empty cells left out
}

// ---- events --------------------------------------------------------------------------------------------

TEST_CASE("creation_events: CampaignCreated, then the contacts and the rejected rows in chunks of 1000") {
  json list = json::array();
  for (int i = 0; i < 2500; ++i) list.push_back({{"phone", gb_mobile(i)}, {"n", std::to_string(i)}});
  for (int i = 0; i < 1001; ++i) list.push_back({{"phone", "bad " + std::to_string(i)}});
  auto r =
      import_json({{"name", "Big"}, {"contacts", list}, {"retry", {{"max_attempts", 2}}}}, ImportDefaults{});
  REQUIRE(r);
  REQUIRE(r->contacts.size() == 2500);
  REQUIRE(r->rejected.size() == 1001);

  auto events = creation_events("CMbig", *r, "ops", "api");
  REQUIRE(events.size() == 1 + 3 + 2);
  CHECK(events[0].type == event_type::campaign_created);
  const json& created = events[0].data;
  CHECK(created["campaign_id"] == "CMbig");
  CHECK(created["name"] == "Big");
  CHECK(created["source"] == "api");
  CHECK(created["by"] == "ops");
  CHECK(created["policy"] == to_json(r->policy));
  CHECK(created["policy"]["max_attempts"] == 2);
  CHECK(created["scheduled"] == false);
  CHECK(created["total_rows"] == 3501);
  CHECK(created["accepted"] == 2500);
  CHECK(created["rejected"] == 1001);

  std::size_t expected_first[] = {0, 1000, 2000}, expected_size[] = {1000, 1000, 500};
  for (int k = 0; k < 3; ++k) {
    const NewEvent& e = events[1 + k];
    CHECK(e.type == event_type::contacts_added);
    CHECK(e.data["first"] == expected_first[k]);
    REQUIRE(e.data["contacts"].size() == expected_size[k]);
    const json& c = e.data["contacts"][0];
    CHECK(c["phone"] == gb_mobile(static_cast<int>(expected_first[k])));
    CHECK(c["zones"] == json::array({"region:GB"}));
    CHECK(c["fields"] == json{{"n", std::to_string(expected_first[k])}});
  }
  CHECK(events[4].type == event_type::contacts_rejected);
  REQUIRE(events[4].data["rows"].size() == 1000);
  CHECK(events[4].data["rows"][0]["row"] == 2501);
  CHECK(events[4].data["rows"][0]["phone"] == "bad 0");
  CHECK(events[5].type == event_type::contacts_rejected);
  REQUIRE(events[5].data["rows"].size() == 1);
  CHECK(events[5].data["rows"][0]["row"] == 3501);
}

TEST_CASE("creation_events: a campaign without rejected rows has no ContactsRejected") {
  auto r = import_json(one_contact(), ImportDefaults{});
  REQUIRE(r);
  auto events = creation_events("CMone", *r, "", "csv");
  REQUIRE(events.size() == 2);
  CHECK(events[1].type == event_type::contacts_added);
  CHECK(events[1].data["contacts"] ==
        json::array({{{"phone", kAnn}, {"zones", json::array({"region:GB"})}, {"fields", json::object()}}}));
}

TEST_CASE("import_numbers: a plain list, without retries or a window, deduplicated and checked") {
  ImportDefaults d;
  d.default_cps = 2;
  CampaignImport in = import_numbers({kAnn, "nonsense", "+44 7400 123456", kUs, ""}, d);
  CHECK(in.total_rows == 5);
  REQUIRE(in.contacts.size() == 2);
  CHECK(in.contacts[0].phone == kAnn);
  CHECK(in.contacts[1].phone == kUs);
  CHECK(in.contacts[1].zones == std::vector<std::string>{"region:US"});
  REQUIRE(in.rejected.size() == 3);
  CHECK(in.rejected[0].row == 2);
  CHECK(in.rejected[1].row == 3);
  CHECK(in.rejected[1].reason == "duplicate of row 1");
  CHECK(in.rejected[2].row == 5);
  CHECK(in.rejected[2].reason == "no phone number");
  CHECK(in.policy.retry_on.empty());
  CHECK(in.policy.max_attempts == 1);
  CHECK_FALSE(in.policy.has_window());
  CHECK(in.policy.cps == 2);
  d.default_cps = 100;
  CHECK(import_numbers({kAnn}, d).policy.cps == 20);

  auto events = creation_events("CMbulk", in, "ops", "start-bulk");
  CHECK(events[0].data["policy"]["retry_on"] == json::array());
  CHECK(events[0].data["source"] == "start-bulk");
}

// ---- known bugs (these fail until contact_import.cpp / phone.cpp are mended) ----------------------------

namespace {

// What the event store does with an event's data: dump() throws on a string that is not UTF-8.
bool serialisable(const json& j) {
  try {
    (void)j.dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

}  // namespace

TEST_CASE("a field longer than 1000 bytes is cut at a character boundary: its events stay valid UTF-8") {
  // 999 ASCII bytes, then U+00E9 (2 bytes): the cut at 1000 bytes keeps only the first byte of it.
  std::string note = std::string(999, 'a') + "\xC3\xA9";
  auto r = import_json({{"contacts", json::array({{{"phone", kAnn}, {"note", note}}})}}, ImportDefaults{});
  REQUIRE(r);
  REQUIRE(r->contacts.size() == 1);
  CHECK(serialisable(r->contacts[0].fields));
  auto events = creation_events("CMutf8", *r, "ops", "api");
  REQUIRE(events.size() == 2);
  CHECK(serialisable(events[1].data));

  auto csv = import_csv("phone,note\n" + std::string(kAnn) + "," + note + "\n", {}, ImportDefaults{});
  REQUIRE(csv);
  REQUIRE(csv->contacts.size() == 1);
  CHECK(serialisable(csv->contacts[0].fields));
}

TEST_CASE("a long non-ASCII phone is cut at a character boundary in its rejected row") {
  // "x" and 40 U+00E9: 81 bytes, refused as too long; the row keeps 64 bytes and the reason 20 of them.
  std::string phone = "x";
  for (int i = 0; i < 40; ++i) phone += "\xC3\xA9";
  auto r =
      import_json({{"contacts", json::array({{{"phone", kAnn}}, {{"phone", phone}}})}}, ImportDefaults{});
  REQUIRE(r);
  REQUIRE(r->rejected.size() == 1);
  CHECK(r->rejected[0].row == 2);
  CHECK(serialisable(json(r->rejected[0].phone)));
  CHECK(serialisable(json(r->rejected[0].reason)));
  auto events = creation_events("CMutf8", *r, "ops", "api");
  REQUIRE(events.size() == 3);
  CHECK(events[2].type == event_type::contacts_rejected);
  CHECK(serialisable(events[2].data));
}

TEST_CASE("after a quoted field with a line break, CSV rows are numbered as a spreadsheet shows them") {
  // A spreadsheet shows Ann's two-line note in one cell of row 2: "bad" is row 3 and the duplicate row 4.
  std::string csv =
      "phone,note\n"
      "+447400123456,\"first line\nsecond line\"\n"
      "bad,x\n"
      "07400 123456,y\n";
  auto r = import_csv(csv, {}, ImportDefaults{});
  REQUIRE(r);
  REQUIRE(r->rejected.size() == 2);
  CHECK(r->rejected[0].row == 3);
  CHECK(r->rejected[1].row == 4);
  CHECK(r->rejected[1].reason == "duplicate of row 2");
}

TEST_CASE("a start_at out of range is refused, not taken as another instant") {
  // timegm() normalises: month 13 is next January, hour 25 the next day.
  for (const char* bad : {"2026-13-45T09:00:00Z", "2026-12-08T25:61:00Z", "2026-02-30T09:00:00Z",
                          "2026-12-08T09:00:00+25:00"}) {
    INFO(bad);
    auto r = import_json(one_contact({{"start_at", bad}}), ImportDefaults{});
    CHECK_FALSE(r);
    if (!r) CHECK_THAT(r.status().message(), Catch::Contains("start_at"));
  }
}

TEST_CASE("a CSV that is not UTF-8 is refused with a clear error, cps must be a number") {
  ImportDefaults d;
  auto latin1 = import_csv("phone,name\r\n+447400123456,Ren\xe9\r\n", {}, d);
  REQUIRE_FALSE(latin1);
  CHECK_THAT(latin1.status().message(), Catch::Contains("UTF-8"));
  auto cps = import_csv("phone\r\n+447400123456\r\n", {{"cps", "5abc"}}, d);
  REQUIRE_FALSE(cps);
  CHECK_THAT(cps.status().message(), Catch::Contains("cps"));
}
