#include "http/webhook_parse.hpp"

#include <algorithm>
#include <cctype>

#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"
#include "http/twilio_signature.hpp"

namespace voxlog {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A call's identity names its stream and its aliases: printable UTF-8 (Twilio's SIDs are 34 letters and
// digits), never a control byte or broken UTF-8 that a log reader would trip over.
bool is_printable_id(std::string_view id) {
  return id.size() <= 64 && is_valid_utf8(id) && std::none_of(id.begin(), id.end(), [](char c) {
           return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
         });
}

// Percent-decodes `s` ('+' is a space) into *out. Returns npos, or the offset of a bad percent-escape.
std::size_t decode_component(std::string_view s, std::string* out) {
  out->reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t plain = i;  // copy plain runs at once: most bytes are plain
    while (plain < s.size() && s[plain] != '+' && s[plain] != '%') ++plain;
    out->append(s.data() + i, plain - i);
    i = plain;
    if (i == s.size()) break;
    if (s[i] == '+') {
      *out += ' ';
      ++i;
      continue;
    }
    int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return i;
    *out += static_cast<char>(hi * 16 + lo);
    i += 3;
  }
  return std::string_view::npos;
}

}  // namespace

Result<FormParams> parse_form(std::string_view body) {
  FormParams params;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(pos, amp - pos);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      auto& [name, value] = params.emplace_back();
      std::size_t bad = decode_component(pair.substr(0, eq), &name);
      if (bad == std::string_view::npos && eq != std::string_view::npos) {
        bad = decode_component(pair.substr(eq + 1), &value);
        if (bad != std::string_view::npos) bad += eq + 1;
      }
      if (bad != std::string_view::npos)
        return invalid_argument("bad percent-escape at byte " + std::to_string(pos + bad) +
                                " of the form body");
    }
    pos = amp + 1;
  }
  return params;
}

std::string body_kind(std::string_view content_type) {
  std::string type = lower_ascii(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }),
             type.end());
  if (type == "application/json") return "json";
  if (type == "application/x-www-form-urlencoded") return "form";
  return {};
}

nlohmann::json form_to_json(FormParams params) {
  nlohmann::json out = nlohmann::json::object();
  auto& object = out.get_ref<nlohmann::json::object_t&>();
  for (auto& [name, value] : params) {
    // try_emplace leaves name and value alone when the name is already there.
    auto [it, inserted] = object.try_emplace(std::move(name), std::move(value));
    if (inserted) continue;
    if (!it->second.is_array()) it->second = nlohmann::json::array({std::move(it->second)});
    it->second.push_back(std::move(value));
  }
  return out;
}

Result<Webhook> parse_webhook(WebhookRoute route, std::string_view content_type, std::string_view body,
                              std::string_view idempotency_token, std::int64_t received_ms,
                              FormParams* form) {
  Webhook w;
  w.route = route;
  w.received_ms = received_ms;
  w.content_type = body_kind(content_type);
  if (w.content_type == "json") {
    auto parsed = parse_untrusted_json(body);
    if (!parsed) return invalid_argument("the body is " + parsed.status().message());
    if (!parsed->is_object()) return invalid_argument("the JSON body must be an object");
    w.params = std::move(*parsed);
  } else if (w.content_type == "form") {
    if (form) {
      w.params = form_to_json(std::move(*form));
    } else {
      auto parsed = parse_form(body);
      if (!parsed) return parsed.status();
      w.params = form_to_json(std::move(*parsed));
    }
    // JSON bodies are UTF-8 by the parser's rules; a form's %-escapes can spell any byte, and the stored
    // event must be text. Twilio sends UTF-8.
    for (const auto& [name, value] : w.params.items()) {
      bool text = is_valid_utf8(name);
      if (value.is_string()) {
        text = text && is_valid_utf8(value.get_ref<const std::string&>());
      } else {
        for (const auto& repeated : value)
          text = text && is_valid_utf8(repeated.get_ref<const std::string&>());
      }
      if (!text)
        return invalid_argument(
            "the form body is not UTF-8 text (a %-escape spells a byte UTF-8 does not allow)");
    }
  } else {
    return invalid_argument("unsupported Content-Type '" + std::string(content_type.substr(0, 100)) +
                            "': send application/json or application/x-www-form-urlencoded");
  }
  w.execution_sid = webhook_param(w.params, {"execution_sid", "ExecutionSid", "FlowExecutionSid"});
  w.call_sid = webhook_param(w.params, {"CallSid", "call_sid"});
  if (w.execution_sid.empty() && w.call_sid.empty())
    return invalid_argument("the webhook names no call: expected execution_sid or CallSid");
  if (!is_printable_id(w.execution_sid) || !is_printable_id(w.call_sid))
    return invalid_argument("execution_sid/CallSid must be printable text of at most 64 bytes");

  w.idempotency_token = std::string(idempotency_token);
  std::string sequence = webhook_param(w.params, {"SequenceNumber"});
  std::string status = webhook_param(w.params, {"CallStatus"});
  // The key comes from what the signature covers: the idempotency header is not signed, so it is only
  // recorded (a replay with a new header value must still be a duplicate).
  // Twilio's SequenceNumber is an integer and CallStatus a short word; anything else is keyed by its body,
  // so the key always stays short printable text the store takes.
  bool keyed_by_status = !sequence.empty() && sequence.size() <= 20 &&
                         sequence.find_first_not_of("0123456789") == std::string::npos && !status.empty() &&
                         is_printable_id(status);
  if (route == WebhookRoute::status && w.content_type == "form" && keyed_by_status) {
    w.dedupe = "status:" + w.call_sid + ":" + sequence + ":" + status;
  } else {
    w.dedupe = std::string("body:") + to_string(route) + ":" + twilio::sha256_hex(body);
  }
  return w;
}

}  // namespace voxlog
