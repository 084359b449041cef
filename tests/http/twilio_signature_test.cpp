#include "http/twilio_signature.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

using voxlog::twilio::FormParams;
using voxlog::twilio::sha256_hex;
using voxlog::twilio::sign;
using voxlog::twilio::url_with_body_hash;
using voxlog::twilio::verify_form;
using voxlog::twilio::verify_json;

namespace {

const FormParams kV1Params = {{"CallSid", "CA1234567890ABCDE"},
                              {"Caller", "+14158675309"},
                              {"Digits", "1234"},
                              {"From", "+14158675309"},
                              {"To", "+18005551212"}};
const std::string kJsonBody = R"({"property": "value", "boolean": true})";
const std::string kJsonBodyHash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

FormParams with_value(FormParams params, const std::string& key, const std::string& value) {
  for (auto& [k, v] : params) {
    if (k == key) v = value;
  }
  return params;
}

}  // namespace

TEST_CASE("V1: form parameters on an https URL without port", "[signature]") {
  const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  CHECK(sign("12345", url, kV1Params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  CHECK(verify_form("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url, kV1Params));
  CHECK_FALSE(
      verify_form("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url, with_value(kV1Params, "Digits", "1235")));
  CHECK_FALSE(verify_form("12346", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url, kV1Params));
  CHECK_FALSE(verify_form("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B9=", url, kV1Params));
  CHECK_FALSE(verify_form("12345", "", url, kV1Params));
}

TEST_CASE("V2: the explicit :443 form, and either port spelling is accepted", "[signature]") {
  const std::string with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
  const std::string without_port = "https://mycompany.com/myapp.php?foo=1&bar=2";
  CHECK(sign("12345", with_port, kV1Params) == "kvajT1Ptam85bY51eRf/AJRuM3w=");
  CHECK(verify_form("12345", "kvajT1Ptam85bY51eRf/AJRuM3w=", with_port, kV1Params));
  CHECK(verify_form("12345", "kvajT1Ptam85bY51eRf/AJRuM3w=", without_port, kV1Params));
  CHECK(verify_form("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", with_port, kV1Params));
  CHECK_FALSE(verify_form(
      "12345", "kvajT1Ptam85bY51eRf/AJRuM3w=", "https://mycompany.com:444/myapp.php?foo=1&bar=2", kV1Params));
}

TEST_CASE("V3: a non-default http port is signed as given", "[signature]") {
  const std::string url = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
  CHECK(sign("12345", url, kV1Params) == "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
  CHECK(verify_form("12345", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", url, kV1Params));
  CHECK_FALSE(verify_form(
      "12345", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", "http://mycompany.com/myapp.php?foo=1&bar=2", kV1Params));
  CHECK_FALSE(
      verify_form("12345", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", url, with_value(kV1Params, "To", "+18005551213")));
}

TEST_CASE("V4: http with the explicit :80 matches the URL without port", "[signature]") {
  const std::string with_port = "http://mycompany.com:80/myapp.php?foo=1&bar=2";
  CHECK(sign("12345", with_port, kV1Params) == "0ZXoZLH/DfblKGATFgpif+LLRf4=");
  CHECK(verify_form("12345", "0ZXoZLH/DfblKGATFgpif+LLRf4=", "http://mycompany.com/myapp.php?foo=1&bar=2",
                    kV1Params));
  CHECK_FALSE(verify_form(
      "12345", "0ZXoZLH/DfblKGATFgpif+LLRf4=", "https://mycompany.com/myapp.php?foo=1&bar=2", kV1Params));
}

TEST_CASE("V5: the worked example of Twilio's security docs, params given unsorted", "[signature]") {
  const FormParams params = {{"Digits", "1234"},
                             {"To", "+18005551212"},
                             {"From", "+14158675310"},
                             {"Caller", "+14158675310"},
                             {"CallSid", "CA1234567890ABCDE"}};
  const std::string url = "https://example.com/myapp.php?foo=1&bar=2";
  CHECK(sign("12345", url, params) == "L/OH5YylLD5NRKLltdqwSvS0BnU=");
  CHECK(verify_form("12345", "L/OH5YylLD5NRKLltdqwSvS0BnU=", url, params));
  CHECK_FALSE(verify_form("12345", "L/OH5YylLD5NRKLltdqwSvS0BnU=", url + "&baz=3", params));
}

TEST_CASE("V6: JSON body, hash appended to an existing query", "[signature]") {
  const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=" + kJsonBodyHash;
  CHECK(sha256_hex(kJsonBody) == kJsonBodyHash);
  CHECK(url_with_body_hash("https://mycompany.com/myapp.php?foo=1&bar=2", kJsonBody) == url);
  CHECK(sign("12345", url, {}) == "a9nBmqA0ju/hNViExpshrM61xv4=");
  CHECK(verify_json("12345", "a9nBmqA0ju/hNViExpshrM61xv4=", url, kJsonBody));
  // The signature is right but the body is not the one hashed.
  CHECK_FALSE(verify_json("12345", "a9nBmqA0ju/hNViExpshrM61xv4=", url,
                          R"({"property": "value", "boolean": false})"));
  CHECK_FALSE(verify_json("12345", "a9nBmqA0ju/hNViExpshrM61xv4=", url, kJsonBody + " "));
}

TEST_CASE("V7: JSON body, the hash is the only query parameter", "[signature]") {
  const std::string url = "https://mycompany.com/myapp.php?bodySHA256=" + kJsonBodyHash;
  CHECK(url_with_body_hash("https://mycompany.com/myapp.php", kJsonBody) == url);
  CHECK(sign("12345", url, {}) == "y77kIzt2vzLz71DgmJGsen2scGs=");
  CHECK(verify_json("12345", "y77kIzt2vzLz71DgmJGsen2scGs=", url, kJsonBody));
  CHECK_FALSE(
      verify_json("12345", "y77kIzt2vzLz71DgmJGsen2scGs=", "https://mycompany.com/myapp.php", kJsonBody));
  CHECK_FALSE(verify_json("54321", "y77kIzt2vzLz71DgmJGsen2scGs=", url, kJsonBody));
}

TEST_CASE("V8: JSON body {} on the :443 form, accepted with or without the port", "[signature]") {
  const std::string hash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
  const std::string with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256=" + hash;
  const std::string without_port = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=" + hash;
  CHECK(sha256_hex("{}") == hash);
  CHECK(sign("12345", with_port, {}) == "Ldidvp12m26NI7eqEvxnEpkd9Hc=");
  CHECK(sign("12345", without_port, {}) == "rw/jVviOgicj2+kHZULvebnA4ag=");
  CHECK(verify_json("12345", "Ldidvp12m26NI7eqEvxnEpkd9Hc=", with_port, "{}"));
  CHECK(verify_json("12345", "Ldidvp12m26NI7eqEvxnEpkd9Hc=", without_port, "{}"));
  CHECK(verify_json("12345", "rw/jVviOgicj2+kHZULvebnA4ag=", with_port, "{}"));
  CHECK_FALSE(verify_json("12345", "Ldidvp12m26NI7eqEvxnEpkd9Hc=", with_port, "{ }"));
}

TEST_CASE("V9: a status callback where CallStatus sorts before CallbackSource", "[signature]") {
  const FormParams params = {{"AccountSid", "AC" + std::string(32, '0')},
                             {"ApiVersion", "2010-04-01"},
                             {"CallSid", "CA" + std::string(31, '0') + "1"},
                             {"CallStatus", "completed"},
                             {"CallDuration", "49"},
                             {"CallbackSource", "call-progress-events"},
                             {"Direction", "outbound-api"},
                             {"From", "+15017122661"},
                             {"To", "+15558675310"},
                             {"SequenceNumber", "3"},
                             {"Timestamp", "Sun, 25 Mar 2018 09:53:19 +0000"}};
  const std::string token = "test_auth_token_0123456789abcdef";
  const std::string url = "https://example.com/webhooks/status?callId=42";
  CHECK(sign(token, url, params) == "MG2Q1RKsSg29WB6Q0gzRsr8kwPg=");
  CHECK(verify_form(token, "MG2Q1RKsSg29WB6Q0gzRsr8kwPg=", url, params));
  CHECK_FALSE(
      verify_form(token, "MG2Q1RKsSg29WB6Q0gzRsr8kwPg=", url, with_value(params, "CallStatus", "busy")));
}

TEST_CASE("repeated keys: values de-duplicated and sorted", "[signature]") {
  const FormParams params = {{"A", "b"}, {"B", "c"}, {"A", "a"}, {"A", "a"}};
  CHECK(sign("12345", "https://example.com/x", params) == "m44CFdPUcH9G6wfeozl4EStuC+8=");
  CHECK_FALSE(verify_form("12345", "m44CFdPUcH9G6wfeozl4EStuC+8=", "https://example.com/x",
                          {{"A", "b"}, {"B", "c"}}));
}

TEST_CASE("a connection-override fragment is not signed", "[signature]") {
  const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  CHECK(verify_form("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url + "#ct=1000&rc=2", kV1Params));
}

TEST_CASE("user:password in the URL may be dropped by Twilio", "[signature]") {
  const std::string url = "https://user:pw@mycompany.com/myapp.php?foo=1&bar=2";
  CHECK(verify_form("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url, kV1Params));
  CHECK(verify_form("12345", sign("12345", url, kV1Params), url, kV1Params));
}

TEST_CASE("signatures match the npm twilio package for random inputs", "[signature][node]") {
  std::mt19937 rng(20251125);
  const std::string alphabet = "abcXYZ019 +-_.:/&=?%#\"'\\{}";
  const std::vector<std::string> non_ascii = {"ç", "ğ", "İ", "ö", "€", "日"};
  auto random_text = [&](size_t max_len) {
    std::string s;
    size_t len = std::uniform_int_distribution<size_t>(0, max_len)(rng);
    for (size_t i = 0; i < len; ++i) {
      if (rng() % 8 == 0) {
        s += non_ascii[rng() % non_ascii.size()];
      } else {
        s += alphabet[rng() % alphabet.size()];
      }
    }
    return s;
  };

  nlohmann::json cases = nlohmann::json::array();
  std::vector<FormParams> params_of_case;
  for (int i = 0; i < 40; ++i) {
    FormParams params;
    nlohmann::json object = nlohmann::json::object();
    int keys = static_cast<int>(rng() % 6);
    for (int k = 0; k < keys; ++k) {
      std::string key = "K" + std::to_string(rng() % 4) + (rng() % 2 ? "a" : "B");
      std::string value = random_text(12);
      params.emplace_back(key, value);
      if (!object.contains(key)) {
        object[key] = nlohmann::json::array();
      }
      object[key].push_back(value);
    }
    cases.push_back({{"token", random_text(32)},
                     {"url", "https://h" + std::to_string(i) + ".example.com/p?x=" + std::to_string(rng())},
                     {"params", object},
                     {"body", random_text(60)}});
    params_of_case.push_back(std::move(params));
  }

  // Scratch files in a directory of their own, not wherever the test binary was started.
  std::string scratch = (std::filesystem::temp_directory_path() / "voxlog-sig-XXXXXX").string();
  REQUIRE(mkdtemp(scratch.data()) != nullptr);
  const std::string input_path = scratch + "/node_signature_cases.json";
  std::ofstream(input_path) << cases.dump();
  const std::string script =
      "const t=require('" VOXLOG_SOURCE_DIR
      "/tests/node_modules/twilio');"
      "const cases=JSON.parse(require('fs').readFileSync('" +
      input_path +
      "','utf8'));"
      "for(const c of "
      "cases){console.log(JSON.stringify([t.getExpectedTwilioSignature(c.token,c.url,c.params),"
      "t.getExpectedBodyHash(c.body)]));}";
  const std::string script_path = scratch + "/node_signature_cases.js";
  std::ofstream(script_path) << script;

  FILE* pipe = popen(("node " + script_path).c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  REQUIRE(pclose(pipe) == 0);
  std::filesystem::remove_all(scratch);

  std::istringstream lines(output);
  std::string line;
  size_t index = 0;
  while (std::getline(lines, line)) {
    REQUIRE(index < cases.size());
    auto expected = nlohmann::json::parse(line);
    const auto& c = cases[index];
    INFO("case " << index << ": " << c.dump());
    CHECK(sign(c["token"].get<std::string>(), c["url"].get<std::string>(), params_of_case[index]) ==
          expected[0]);
    CHECK(sha256_hex(c["body"].get<std::string>()) == expected[1]);
    ++index;
  }
  CHECK(index == cases.size());
}
