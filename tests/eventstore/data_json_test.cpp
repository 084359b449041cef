// parse_data_json must agree with nlohmann::json::parse on everything, fast path or not.
#include <limits>
#include <random>

#include <catch2/catch.hpp>

#include "eventstore/data_json.hpp"

using nlohmann::json;
using voxlog::codec::parse_data_json;

namespace {

// A random JSON value mixing what the fast path reads with what it leaves to nlohmann.
json random_value(std::mt19937_64& rng, int depth) {
  static const char* const kStrings[] = {
      "",       "in-progress", "+447700900123", "quote\"d", "back\\slash",
      "tab\tx", "ünïcödé ğ",   "emoji 😀",       "nl\n",     "CA0123456789"};
  std::uniform_int_distribution<int> kind(0, depth > 3 ? 5 : 7);
  switch (kind(rng)) {
    case 0: return kStrings[rng() % 10];
    case 1: return static_cast<std::uint64_t>(rng() >> (rng() % 64));
    case 2: return -static_cast<std::int64_t>(rng() >> (1 + rng() % 63));
    case 3: return static_cast<double>(rng() % 100000) / 7.0;
    case 4: return rng() % 2 == 0;
    case 5: return nullptr;
    case 6: {
      json o = json::object();
      for (int i = 0, n = static_cast<int>(rng() % 6); i < n; ++i)
        o[std::string(kStrings[rng() % 10]) + std::to_string(i)] = random_value(rng, depth + 1);
      return o;
    }
    default: {
      json a = json::array();
      for (int i = 0, n = static_cast<int>(rng() % 5); i < n; ++i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
  }
}

}  // namespace

TEST_CASE("parse_data_json equals nlohmann's parse on random documents", "[eventstore][codec]") {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    json doc = json::object();
    for (int k = 0, n = static_cast<int>(rng() % 8); k < n; ++k)
      doc["k" + std::to_string(k)] = random_value(rng, 0);
    std::string text = doc.dump();
    json parsed;
    REQUIRE(parse_data_json(text, &parsed));
    INFO(text);
    REQUIRE(parsed == json::parse(text));
    REQUIRE(parsed.dump() == text);  // same types too: unsigned stays unsigned, -0 stays an integer
  }
}

TEST_CASE("parse_data_json into a value that already holds another document", "[eventstore][codec]") {
  // A replay decodes every event into the same Event: whatever the previous document was (same keys,
  // fewer, more, other types, an invalid text), the result must be exactly the new one.
  std::mt19937_64 rng(777);
  std::vector<std::string> texts;
  for (int i = 0; i < 400; ++i) {
    json doc = json::object();
    for (int k = 0, n = static_cast<int>(rng() % 8); k < n; ++k)
      doc[(rng() % 2 ? "k" : "j") + std::to_string(rng() % 6)] = random_value(rng, 0);
    texts.push_back(doc.dump());
  }
  texts.push_back(R"({"a":1,"a":2})");
  texts.push_back(R"({"a":[1,2,3],"b":{"c":"d"}})");
  texts.push_back(R"({"a":[1],"b":{}})");
  texts.push_back(R"({"a":})");
  json reused;
  for (int i = 0; i < 4000; ++i) {
    const std::string& text = texts[rng() % texts.size()];
    INFO("previous " << reused.dump() << " then " << text);
    json fresh;
    bool ok = parse_data_json(text, &fresh);
    REQUIRE(parse_data_json(text, &reused) == ok);
    if (!ok) continue;
    REQUIRE(reused == json::parse(text));
    REQUIRE(reused.dump() == fresh.dump());
  }
}

TEST_CASE("parse_data_json handles integer edges and rejects invalid JSON", "[eventstore][codec]") {
  for (const char* text :
       {R"({"a":0})", R"({"a":-0})", R"({"a":18446744073709551615})", R"({"a":18446744073709551616})",
        R"({"a":-9223372036854775808})", R"({"a":-9223372036854775809})", R"({"a":1e3})",
        R"({"a":[true,false,null]})", R"({ "a" : 1 })", R"({"a":1,"a":2})", R"({"b":1,"a":2})"}) {
    json parsed;
    INFO(text);
    REQUIRE(parse_data_json(text, &parsed));
    CHECK(parsed == json::parse(text));
    CHECK(parsed.dump() == json::parse(text).dump());
  }
  for (const char* text : {"", "{", R"({"a":})", R"({"a":01})", R"({"a":1}x)", R"({"a":tru})", R"({"a":-})",
                           R"({"a":"unterminated})"}) {
    json parsed;
    INFO(text);
    CHECK_FALSE(parse_data_json(text, &parsed));
  }
}

TEST_CASE("dump_data_json writes exactly what dump() writes", "[eventstore][codec]") {
  using voxlog::codec::dump_data_json;
  std::mt19937_64 rng(4242);
  for (int i = 0; i < 3000; ++i) {
    json doc = json::object();
    for (int k = 0, n = static_cast<int>(rng() % 8); k < n; ++k)
      doc["k" + std::to_string(k)] = random_value(rng, 0);
    INFO(doc.dump());
    REQUIRE(dump_data_json(doc) == doc.dump());
  }
  // Integer edges, keys that need escapes, DEL, and empty containers, each on both paths.
  json edges = {{"max", std::numeric_limits<std::uint64_t>::max()},
                {"min", std::numeric_limits<std::int64_t>::min()},
                {"zero", 0},
                {"neg", -1},
                {"o", json::object()},
                {"a", json::array()},
                {"del\x7f", "x"},
                {"k\"ey", "v"}};
  CHECK(dump_data_json(edges) == edges.dump());
  edges.erase("del\x7f");
  edges.erase("k\"ey");
  CHECK(dump_data_json(edges) == edges.dump());
  // A string that is not UTF-8: refused the same way.
  json bad = {{"a", std::string("\xff\xfe")}};
  CHECK_THROWS_AS(dump_data_json(bad), json::type_error);
}
