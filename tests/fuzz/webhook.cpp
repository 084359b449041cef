// Fuzz target: a webhook's body as the edge parses it (parse_webhook: JSON or form, the call's identity,
// the dedupe key). The first byte picks the route and the content type, the rest is the body.
// Properties: it never crashes; an accepted webhook names its call, and its identity and dedupe key are
// ones the event store accepts (so a webhook is refused here, with a clear 400, or stored, never refused
// later by the store); a JSON body it accepts nests no deeper than kMaxJsonDepth, and the store's writer
// dumps it.
#include <string>

#include "eventstore/codec.hpp"
#include "eventstore/data_json.hpp"
#include "eventstore/json_fields.hpp"
#include "http/webhook_parse.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace codec = voxlog::codec;
  if (size == 0) return 0;
  using voxlog::WebhookRoute;
  static const WebhookRoute kRoutes[] = {WebhookRoute::flow, WebhookRoute::status, WebhookRoute::dtmf};
  static const char* kTypes[] = {"application/json", "application/x-www-form-urlencoded; charset=utf-8",
                                 "text/plain"};
  WebhookRoute route = kRoutes[data[0] % 3];
  const char* content_type = kTypes[(data[0] / 3) % 3];
  std::string_view body = as_text(data + 1, size - 1);

  auto webhook = voxlog::parse_webhook(route, content_type, body, "idem-1", 1700000000000, nullptr);
  if (!webhook) {
    FUZZ_CHECK(webhook.status().code() == voxlog::StatusCode::invalid_argument);
    return 0;
  }
  FUZZ_CHECK(!webhook->execution_sid.empty() || !webhook->call_sid.empty());
  FUZZ_CHECK(webhook->params.is_object());
  FUZZ_CHECK(codec::check_name("dedupe", webhook->dedupe, codec::kMaxDedupeBytes).empty());
  FUZZ_CHECK(codec::check_name("id", webhook->execution_sid, 64).empty());
  FUZZ_CHECK(codec::check_name("id", webhook->call_sid, 64).empty());
  if (webhook->content_type == "json") FUZZ_CHECK(voxlog::json_depth_within(body));
  // What the store then writes (the writer recursed once per level: a 100,000-deep body overflowed the
  // stack here); the store refuses a string that is not UTF-8 with a 400, as the exception says.
  try {
    (void)codec::dump_data_json(nlohmann::json{{"params", webhook->params}});
  } catch (const nlohmann::json::exception&) {
  }

  // The same body as a form, parsed beforehand as the signature check does, gives the same webhook.
  if (webhook->content_type == "form") {
    auto form = voxlog::parse_form(body);
    FUZZ_CHECK(form);
    auto again = voxlog::parse_webhook(route, content_type, body, "idem-2", 1, &*form);
    FUZZ_CHECK(again && again->dedupe == webhook->dedupe && again->params == webhook->params);
  }
  return 0;
}
