// Twilio request signatures (X-Twilio-Signature): compute and verify.
//
// Contract: `sign` computes the signature Twilio puts in X-Twilio-Signature for a request to `url`
// (HMAC-SHA1 keyed by the account's auth token, base64). `verify_form` and `verify_json` check a received
// request against it, trying the URL exactly as given and with the scheme's default port added or removed,
// because Twilio is not consistent about ports (it signs an https URL with or without :443). Comparisons run
// in constant time. Nothing here logs, and no result or message ever contains the auth token. Any thread may
// call any function here at any time: they are pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace voxlog::twilio {

// Decoded form parameters in the order received; a key may repeat.
using FormParams = std::vector<std::pair<std::string, std::string>>;

// The base64 X-Twilio-Signature of a request to `url` carrying `form_params` (empty for GET and JSON
// bodies): HMAC-SHA1 over the URL followed by `key+value` for every parameter, sorted byte-wise by key,
// the values of a repeated key de-duplicated and sorted.
std::string sign(std::string_view auth_token, std::string_view url, const FormParams& form_params);

// Lower-case hex SHA-256 of `bytes`, the `bodySHA256` of a JSON body.
std::string sha256_hex(std::string_view bytes);

// `url` with `bodySHA256=<sha256_hex(raw_body)>` appended to its query, as Twilio does before signing a
// request with a JSON body (the signature then covers this URL alone: `sign(token, result, {})`).
std::string url_with_body_hash(std::string_view url, std::string_view raw_body);

// Verifies a form-encoded (or GET) request as received. `full_url` is scheme://host[:port]/path?query as
// Twilio requested it (a #fragment is ignored); `form_params` are the decoded body parameters.
bool verify_form(std::string_view auth_token, std::string_view signature, std::string_view full_url,
                 const FormParams& form_params);

// Verifies a request with a JSON body: the signature must cover `full_url` alone, and `full_url`'s
// `bodySHA256` query parameter must equal the SHA-256 of `raw_body` (the bytes as received).
bool verify_json(std::string_view auth_token, std::string_view signature, std::string_view full_url,
                 std::string_view raw_body);

}  // namespace voxlog::twilio
