// Fuzz target: the URLs and parameters that X-Twilio-Signature covers (twilio_signature.hpp). The input is
// the auth token, a line break, the URL, a line break, then the body (also read as a form).
// Properties: nothing crashes; a request signed for a URL verifies against it (form and JSON), also with
// the scheme's default port added or removed; a wrong signature never verifies.
#include <string>

#include "http/twilio_signature.hpp"
#include "http/webhook_parse.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace twilio = voxlog::twilio;
  std::string_view rest = as_text(data, size);
  std::string_view token = take_until(rest, '\n');
  std::string_view url = take_until(rest, '\n');
  std::string_view body = rest;

  twilio::FormParams params;
  if (auto form = voxlog::parse_form(body)) params = std::move(*form);
  // Requests carry no #fragment: verification drops one, signing (of what Twilio requested) has none.
  if (url.find('#') != std::string_view::npos) {
    twilio::verify_form(token, twilio::sign(token, url, params), url, params);
    twilio::verify_json(token, "x", twilio::url_with_body_hash(url, body), body);
    return 0;
  }
  std::string signature = twilio::sign(token, url, params);
  FUZZ_CHECK(twilio::verify_form(token, signature, url, params));
  FUZZ_CHECK(!twilio::verify_form(token, signature + "x", url, params));
  FUZZ_CHECK(!twilio::verify_form(token, "", url, params));

  // Twilio signs https://host/path but may call https://host:443/path (or the other way round).
  std::string_view https = "https://";
  std::string_view after = url.substr(std::min(url.size(), https.size()));
  std::size_t host_end = after.find_first_of("/?#:@[");
  if (url.substr(0, https.size()) == https && host_end != std::string_view::npos && host_end > 0 &&
      after[host_end] != ':' && after[host_end] != '@' && after[host_end] != '[') {
    std::string with_port = std::string(https) + std::string(after.substr(0, host_end)) + ":443" +
                            std::string(after.substr(host_end));
    FUZZ_CHECK(twilio::verify_form(token, twilio::sign(token, with_port, params), url, params));
    FUZZ_CHECK(twilio::verify_form(token, signature, with_port, params));
  }

  // A JSON body: the signature covers the URL with bodySHA256 (the first one the URL carries counts).
  if (url.find("bodySHA256") == std::string_view::npos) {
    std::string signed_url = twilio::url_with_body_hash(url, body);
    std::string json_signature = twilio::sign(token, signed_url, {});
    FUZZ_CHECK(twilio::verify_json(token, json_signature, signed_url, body));
    std::string other_body = std::string(body) + " ";
    FUZZ_CHECK(!twilio::verify_json(token, json_signature, signed_url, other_body));
  }
  return 0;
}
