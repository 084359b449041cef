// Twilio's webhooks: verify the signature, parse, hand to the call's actor, answer once durable.
#include <optional>

#include "http/respond.hpp"
#include "http/routes/routes.hpp"
#include "http/twilio_signature.hpp"
#include "http/webhook_parse.hpp"

namespace voxlog::routes {
namespace {

using http::RequestHandle;

// The URL Twilio requested: the configured public URL, else what the Host header says (and, only with
// TRUST_PROXY=on, what the proxy says in X-Forwarded-Proto and X-Forwarded-Host).
std::string url_as_twilio_saw_it(const ServerContext& ctx, const RequestHandle& req) {
  std::string target(req->header().request_target());
  if (!ctx.config.public_url.empty()) return ctx.config.public_url + target;
  std::string proto = ctx.config.trust_proxy ? header_of(req, "X-Forwarded-Proto") : std::string();
  return (proto.empty() ? "http" : proto) + "://" + requested_host(ctx, req) + target;
}

// The accounts whose token may have signed the request. Twilio signs with the token of the account its
// AccountSid names (status callbacks carry it): that account alone, and an AccountSid that is none of ours
// is refused. Studio's JSON requests name no account: every account is tried, the default first. In the
// simulator the stand-ins' SIDs are made up for the run, so an AccountSid there cannot be checked.
Result<std::vector<const WebhookAccount*>> candidates(const ServerContext& ctx, const FormParams* form) {
  std::vector<const WebhookAccount*> out;
  std::optional<std::string> claimed;
  if (form)
    for (const auto& [key, value] : *form)
      if (key == "AccountSid") claimed = value;
  for (const auto& a : ctx.webhook_accounts)
    if (!claimed || a.account_sid == *claimed) out.push_back(&a);
  if (claimed && out.empty()) {
    if (!ctx.config.simulate())
      return Status{StatusCode::permission_denied, "AccountSid '" + claimed->substr(0, 40) +
                                                       "' is not one of this server's Twilio accounts"};
    for (const auto& a : ctx.webhook_accounts) out.push_back(&a);
  }
  return out;
}

// The account whose token made the request's signature (nullptr when VERIFY_WEBHOOKS=off), or
// permission_denied. Parses a form body into `form` (parse_webhook then reuses it), but only after the
// signature header is known to be there: an unsigned request learns nothing about its body.
Result<const WebhookAccount*> verify_signature(const ServerContext& ctx, const RequestHandle& req,
                                               const std::string& kind, std::optional<FormParams>& form) {
  if (!ctx.config.verify_webhooks)
    return static_cast<const WebhookAccount*>(
        nullptr);  // VERIFY_WEBHOOKS=off: loopback only, logged at start
  std::string signature = header_of(req, "X-Twilio-Signature");
  if (signature.empty()) return Status{StatusCode::permission_denied, "missing X-Twilio-Signature"};
  std::string url = url_as_twilio_saw_it(ctx, req);
  if (kind == "form") {
    auto params = parse_form(req->body());
    if (!params) return params.status();
    form = std::move(*params);
  }
  auto accounts = candidates(ctx, form ? &*form : nullptr);
  if (!accounts) return accounts.status();
  for (const WebhookAccount* a : *accounts) {
    bool valid = kind == "json" ? twilio::verify_json(a->auth_token, signature, url, req->body())
                                : twilio::verify_form(a->auth_token, signature, url, *form);
    if (valid) return a;
  }
  return Status{StatusCode::permission_denied, "X-Twilio-Signature does not match this request"};
}

WebhookResult result_for(const Status& s) {
  if (s.code() == StatusCode::permission_denied) return WebhookResult::forbidden;
  if (s.code() == StatusCode::invalid_argument) return WebhookResult::bad_request;
  return WebhookResult::failed;
}

}  // namespace

Handler webhook(const ServerContext& ctx, WebhookRoute route) {
  return [&ctx, route](const RequestHandle& req, const http::RouteParams&) {
    ctx.metrics->http_request();
    std::string instance(req->header().path());
    auto fail = [&](const Status& s) {
      ctx.metrics->webhook(route, result_for(s));
      respond(ctx, req, problem_for(s, instance));
      return restinio::request_accepted();
    };
    std::string content_type = header_of(req, "Content-Type");
    std::string kind = body_kind(content_type);
    if (kind.empty()) {
      ctx.metrics->webhook(route, WebhookResult::bad_request);
      respond(ctx, req,
              problem(415, "Unsupported Media Type",
                      "send application/json or application/x-www-form-urlencoded", instance));
      return restinio::request_accepted();
    }
    std::optional<FormParams> form;  // parsed once, for the signature and for the webhook
    auto account = verify_signature(ctx, req, kind, form);
    if (!account) return fail(account.status());
    auto webhook =
        parse_webhook(route, content_type, req->body(), header_of(req, "I-Twilio-Idempotency-Token"),
                      now_ms(), form ? &*form : nullptr);
    if (!webhook) return fail(webhook.status());
    if (*account) webhook->account = (*account)->name, webhook->region = (*account)->region;
    auto turn = take_turn(ctx, req);  // a stop waits for this answer
    if (!turn) return restinio::request_accepted();
    Metrics* metrics = ctx.metrics;
    const ServerContext* context = &ctx;
    WebhookReply reply([req, metrics, route, context, instance, turn](const Result<AppendResult>& r) {
      if (!r) {
        metrics->webhook(route, result_for(r.status()));
        respond(*context, req, problem_for(r.status(), instance));
        return;
      }
      metrics->webhook(route, r->duplicate ? WebhookResult::duplicate : WebhookResult::accepted);
      respond(*context, req,
              json_response(200, {{"success", true}, {"seq", r->last_seq}, {"duplicate", r->duplicate}}));
    });
    ctx.calls->route(std::move(*webhook), std::move(reply));
    return restinio::request_accepted();
  };
}

}  // namespace voxlog::routes
