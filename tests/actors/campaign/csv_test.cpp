// for_each_csv_record / csv_field / csv_line (actors/campaign/csv.hpp): RFC 4180 as the campaign imports
// and exports read and write it.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "actors/campaign/csv.hpp"

using namespace voxlog;

namespace {

struct Record {
  std::vector<std::string> fields;
  std::size_t line = 0;
};

// Every record of `text`, or the error.
std::pair<Status, std::vector<Record>> read_all(std::string_view text) {
  std::vector<Record> out;
  Status s = for_each_csv_record(text, [&](std::vector<std::string>& fields, std::size_t line) {
    out.push_back({fields, line});
    return true;
  });
  return {s, out};
}

std::vector<std::string> fields(std::initializer_list<const char*> list) {
  std::vector<std::string> out;
  for (const char* f : list) out.emplace_back(f);
  return out;
}

}  // namespace

TEST_CASE("csv: plain records split at commas, with CRLF or LF line ends") {
  for (std::string eol : {"\r\n", "\n"}) {
    INFO("line end " << (eol == "\n" ? "LF" : "CRLF"));
    auto [s, records] = read_all("phone,name" + eol + "+447400123456,Ann" + eol + "+447400123457,Bob" + eol);
    REQUIRE(s);
    REQUIRE(records.size() == 3);
    CHECK(records[0].fields == fields({"phone", "name"}));
    CHECK(records[0].line == 1);
    CHECK(records[1].fields == fields({"+447400123456", "Ann"}));
    CHECK(records[1].line == 2);
    CHECK(records[2].fields == fields({"+447400123457", "Bob"}));
    CHECK(records[2].line == 3);
  }
}

TEST_CASE("csv: empty fields are kept, at the start, middle and end of a record") {
  auto [s, records] = read_all(",a,,b,\n");
  REQUIRE(s);
  REQUIRE(records.size() == 1);
  CHECK(records[0].fields == fields({"", "a", "", "b", ""}));
}

TEST_CASE("csv: a quoted field may hold commas and \"\" for a quote") {
  auto [s, records] = read_all("a,\"b,c\",d\r\n\"say \"\"hi\"\"\",\"\"\"\",\"\"\r\n");
  REQUIRE(s);
  REQUIRE(records.size() == 2);
  CHECK(records[0].fields == fields({"a", "b,c", "d"}));
  CHECK(records[1].fields == fields({"say \"hi\"", "\"", ""}));
  CHECK(records[1].line == 2);
}

TEST_CASE("csv: line breaks inside quotes stay in the field, and the next records keep their line numbers") {
  std::string text =
      "id,note\n"
      "1,\"two\nlines\"\n"                    // lines 2-3
      "2,\"crlf\r\ninside\",x\r\n"            // lines 4-5
      "3,\"three\n\nlines, with a blank\"\n"  // lines 6-8
      "4,last\n";                             // line 9
  auto [s, records] = read_all(text);
  REQUIRE(s);
  REQUIRE(records.size() == 5);
  CHECK(records[0].line == 1);
  CHECK(records[1].fields == fields({"1", "two\nlines"}));
  CHECK(records[1].line == 2);
  CHECK(records[2].fields == fields({"2", "crlf\r\ninside", "x"}));
  CHECK(records[2].line == 4);
  CHECK(records[3].fields == fields({"3", "three\n\nlines, with a blank"}));
  CHECK(records[3].line == 6);
  CHECK(records[4].fields == fields({"4", "last"}));
  CHECK(records[4].line == 9);
}

TEST_CASE("csv: a UTF-8 byte-order mark at the start is skipped") {
  auto [s, records] = read_all("\xEF\xBB\xBFphone,name\r\n+447400123456,Zo\xC3\xAB\r\n");
  REQUIRE(s);
  REQUIRE(records.size() == 2);
  CHECK(records[0].fields == fields({"phone", "name"}));
  CHECK(records[0].fields[0].size() == 5);
  CHECK(records[1].fields == fields({"+447400123456", "Zo\xC3\xAB"}));  // other UTF-8 untouched
}

TEST_CASE("csv: blank lines are skipped, but count for the line numbers") {
  auto [s, records] = read_all("\na,b\n\n\r\nc,d\r\n\n");
  REQUIRE(s);
  REQUIRE(records.size() == 2);
  CHECK(records[0].fields == fields({"a", "b"}));
  CHECK(records[0].line == 2);
  CHECK(records[1].fields == fields({"c", "d"}));
  CHECK(records[1].line == 5);
}

TEST_CASE("csv: the final line needs no line break") {
  auto [s, records] = read_all("a,b\r\nc,\"d\"");
  REQUIRE(s);
  REQUIRE(records.size() == 2);
  CHECK(records[1].fields == fields({"c", "d"}));
  CHECK(records[1].line == 2);

  auto [s2, trailing_empty] = read_all("a,");
  REQUIRE(s2);
  REQUIRE(trailing_empty.size() == 1);
  CHECK(trailing_empty[0].fields == fields({"a", ""}));
}

TEST_CASE("csv: empty text gives no record") {
  auto [s, records] = read_all("");
  CHECK(s);
  CHECK(records.empty());
  auto [s2, bom_only] = read_all("\xEF\xBB\xBF");
  CHECK(s2);
  CHECK(bom_only.empty());
}

TEST_CASE("csv: a quoted field that never ends is invalid_argument naming the line it starts on") {
  auto [s, records] = read_all("phone,name\n+447400123456,Ann\n+447400123457,\"Bob\nand more\n");
  CHECK_FALSE(s);
  CHECK(s.code() == StatusCode::invalid_argument);
  CHECK_THAT(s.message(), Catch::Contains("line 3"));
  CHECK_THAT(s.message(), Catch::Contains("never ends"));
  CHECK(records.size() == 2);  // the records before it were given

  auto [s2, r2] = read_all("\"");
  CHECK(s2.code() == StatusCode::invalid_argument);
  CHECK_THAT(s2.message(), Catch::Contains("line 1"));
}

TEST_CASE("csv: text after a closing quote is invalid_argument naming the line") {
  auto [s, records] = read_all("a,b\n\"c\"d,e\n");
  CHECK(s.code() == StatusCode::invalid_argument);
  CHECK_THAT(s.message(), Catch::Contains("line 2"));
  CHECK_THAT(s.message(), Catch::Contains("after a closing quote"));

  auto [s2, r2] = read_all("a,\"b\" \n");  // a space counts as text
  CHECK(s2.code() == StatusCode::invalid_argument);
  CHECK_THAT(s2.message(), Catch::Contains("line 1"));
}

TEST_CASE("csv: returning false stops the reading, without an error") {
  int seen = 0;
  Status s = for_each_csv_record("a\nb\nc\n\"never ends",
                                 [&](std::vector<std::string>&, std::size_t) { return ++seen < 2; });
  CHECK(s);
  CHECK(seen == 2);
}

TEST_CASE("csv_field: quotes only when it must") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("") == "");
  CHECK(csv_field("Zo\xC3\xAB Smith") == "Zo\xC3\xAB Smith");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(csv_field("cr\rhere") == "\"cr\rhere\"");
  CHECK(csv_field("crlf\r\nhere") == "\"crlf\r\nhere\"");
}

TEST_CASE(
    "csv_field: a leading = + - @ is prefixed by ' so no spreadsheet runs it, but a +number is left alone") {
  CHECK(csv_field("=SUM()") == "'=SUM()");
  CHECK(csv_field("=SUM(A1,B1)") == "\"'=SUM(A1,B1)\"");  // prefixed, then quoted for the comma
  CHECK(csv_field("+cmd") == "'+cmd");
  CHECK(csv_field("-2+3") == "'-2+3");
  CHECK(csv_field("@SUM(1)") == "'@SUM(1)");
  CHECK(csv_field("+") == "'+");
  CHECK(csv_field("+447911123456") == "+447911123456");
  CHECK(csv_field("+44 7911 123456") == "+44 7911 123456");
  CHECK(csv_field("a=b") == "a=b");  // only a leading sign matters
}

TEST_CASE("csv_line: fields joined by commas, ended by CRLF") {
  CHECK(csv_line({"a", "b,c", ""}) == "a,\"b,c\",\r\n");
  CHECK(csv_line({"+447400123456", "=1+1"}) == "+447400123456,'=1+1\r\n");
}

TEST_CASE("csv: what csv_line writes, for_each_csv_record reads back") {
  std::vector<std::vector<std::string>> rows = {
      {"phone", "name", "note"},           {"+447400123456", "Ann, the first", "said \"yes\""},
      {"+447400123457", "", "two\nlines"}, {"+447400123458", "Zo\xC3\xAB", "crlf\r\ninside"},
      {"+447400123459", "\"", ",,,"},      {"", "", ""},
  };
  std::string text;
  for (const auto& row : rows) text += csv_line(row);
  auto [s, records] = read_all(text);
  REQUIRE(s);
  REQUIRE(records.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(records[i].fields == rows[i]);
  CHECK(records[2].line == 3);
  CHECK(records[3].line == 5);  // row 2 took lines 3 and 4
  CHECK(records[4].line == 7);  // row 3 lines 5 and 6

  // A formula comes back defused, not as it was.
  auto [s2, defused] = read_all(csv_line({"=HYPERLINK(\"x\")", "+447400123456"}));
  REQUIRE(s2);
  REQUIRE(defused.size() == 1);
  CHECK(defused[0].fields == fields({"'=HYPERLINK(\"x\")", "+447400123456"}));
}
