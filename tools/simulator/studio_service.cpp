#include "tools/simulator/studio_service.hpp"
#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <ctime>
#include <regex>

namespace voxlog::sim {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Ended executions beyond this are forgotten, oldest first. Each keeps 10 to 15 kB (steps, widgets,
// variables, heard; ~5 kB as JSON text; the definition is shared), so at most 1 to 1.5 GB however long
// voxlogd runs in simulator mode (at Studio's 20 creates a second, 100,000 is 83 minutes of dialling).
constexpr size_t kMaxKeptExecutions = 100000;

// Reads `status` under the execution's own lock (the walker's finish() writes it under that lock).
bool is_active(Execution& execution) {
  std::lock_guard<std::mutex> lock(execution.mutex);
  return execution.status == "active";
}

std::string iso_now() {
  return iso8601_s(std::time(nullptr));
}

std::optional<std::string> param(const twilio::FormParams& params, const std::string& name) {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return std::nullopt;
}

bool is_e164(const std::string& number) {
  static const std::regex kE164(R"(\+[1-9][0-9]{6,14})");
  return std::regex_match(number, kE164);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t begin = 1;
  while (begin <= path.size()) {
    size_t slash = path.find('/', begin);
    std::string part = path.substr(begin, slash == std::string::npos ? std::string::npos : slash - begin);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string::npos) break;
    begin = slash + 1;
  }
  return parts;
}

}  // namespace

ApiReply twilio_error(int http_status, int code, const std::string& message) {
  return ApiReply{http_status,
                  {{"code", code},
                   {"message", message},
                   {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
                   {"status", http_status}}};
}

StudioService::StudioService(SimulatorOptions options)
    : options_(std::move(options)),
      rng_(options_.seed != 0 ? options_.seed
                              : static_cast<uint64_t>(Clock::now().time_since_epoch().count())),
      queue_(std::max(1, options_.workers)) {
  walker_.time_scale = options_.time_scale;
  walker_.send = [this](const WebhookRequest& request) { return send_and_count(request); };
  default_flow_sid_ = options_.flow_sid.empty()
                          ? "FW" + twilio::sha256_hex(options_.flow_definition.dump()).substr(0, 32)
                          : options_.flow_sid;
  auto definition = std::make_shared<const json>(options_.flow_definition);
  auto add_account = [&](const std::string& account_sid, const std::string& token, const std::string& sid) {
    tokens_[account_sid] = token;
    Flow flow;
    flow.sid = sid;
    flow.account_sid = account_sid;
    flow.friendly_name = "voxlog";
    flow.status = "published";
    flow.definition = definition;
    flow.date_created = flow.date_updated = iso_now();
    first_flows_[account_sid] = sid;
    flows_[flow.sid] = flow;
  };
  add_account(options_.account_sid, options_.auth_token, default_flow_sid_);
  for (const SimulatedAccount& a : options_.more_accounts) {
    std::string sid =
        a.flow_sid.empty()
            ? "FW" + twilio::sha256_hex(a.account_sid + options_.flow_definition.dump()).substr(0, 32)
            : a.flow_sid;
    add_account(a.account_sid, a.auth_token, sid);
  }
}

std::string StudioService::flow_sid_for(const std::string& account_sid) const {
  auto it = first_flows_.find(account_sid);
  return it == first_flows_.end() ? std::string() : it->second;
}

StudioService::~StudioService() {
  stopping_ = true;
  queue_.stop();
}

void StudioService::set_base_url(std::string base_url) {
  base_url_ = std::move(base_url);
}

ApiReply StudioService::handle(const ApiRequest& request) {
  std::vector<std::string> parts = split_path(request.path);
  if (parts.size() == 2 && parts[0] == "__sim") return handle_admin(request, parts[1]);
  if (parts.size() < 2 || parts[0] != "v2" || parts[1] != "Flows") {
    return twilio_error(404, 20404, "The requested resource " + request.path + " was not found");
  }
  auto account = request.basic_auth ? tokens_.find(request.basic_auth->first) : tokens_.end();
  bool authenticated = account != tokens_.end() && equal_secret(request.basic_auth->second, account->second);
  if (!authenticated) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.rejected_401;
    return twilio_error(401, 20003, "Authenticate");
  }
  return handle_studio(request, parts, account->first);
}

ApiReply StudioService::handle_studio(const ApiRequest& request, const std::vector<std::string>& parts,
                                      const std::string& account_sid) {
  const std::string& method = request.method;
  const size_t n = parts.size();
  if (n == 2 && method == "POST") return save_flow("", request, false, account_sid);
  if (n == 3 && parts[2] == "Validate" && method == "POST") return save_flow("", request, true, account_sid);
  const std::string flow_sid = n >= 3 ? parts[2] : "";
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto flow = flows_.find(flow_sid);
    if (flow == flows_.end() || flow->second.account_sid != account_sid) {  // another account's: not found
      if (n == 4 && parts[3] == "Executions" && method == "POST") ++stats_.rejected_404;
      return twilio_error(404, 20404, "The requested resource /v2/Flows/" + flow_sid + " was not found");
    }
    if (n == 3 && method == "GET") return ApiReply{200, flow_json(flows_[flow_sid])};
  }
  if (n == 3 && method == "POST") return save_flow(flow_sid, request, false, account_sid);
  if (n == 4 && parts[3] == "Executions") {
    if (method == "POST") return create_execution(flow_sid, request);
    if (method == "GET") return list_executions(flow_sid, request);
  }
  if (n >= 5 && parts[3] == "Executions") {
    std::shared_ptr<Execution> execution = find_execution(flow_sid, parts[4]);
    if (!execution) {
      return twilio_error(404, 20404, "The requested resource " + request.path + " was not found");
    }
    std::lock_guard<std::mutex> lock(execution->mutex);
    if (n == 5 && method == "GET") return ApiReply{200, execution_json(*execution)};
    if (n == 6 && parts[5] == "Context" && method == "GET") {
      json context = execution->liquid_scope();
      context.erase("contact");
      context["flow"].erase("sid");
      // Not Twilio's: what the callee has heard so far (Execution::heard).
      return ApiReply{200,
                      {{"account_sid", execution->account_sid},
                       {"context", context},
                       {"flow_sid", execution->flow_sid},
                       {"execution_sid", execution->sid},
                       {"heard", execution->heard},
                       {"url", base_url_ + request.path}}};
    }
    if (n == 6 && parts[5] == "Steps" && method == "GET") {
      return ApiReply{200,
                      {{"steps", execution->steps},
                       {"heard", execution->heard},  // not Twilio's, as in Context
                       {"meta", {{"key", "steps"}, {"page", 0}}}}};
    }
  }
  if (n == 5 && parts[3] == "Executions" && method == "POST") {
    return update_execution(find_execution(flow_sid, parts[4]), request);
  }
  if (n == 5 && parts[3] == "Executions" && method == "DELETE") return delete_execution(parts[4]);
  return twilio_error(405, 20004, "Method " + method + " not allowed on " + request.path);
}

ApiReply StudioService::create_execution(const std::string& flow_sid, const ApiRequest& request) {
  std::unique_lock<std::mutex> lock(mutex_);
  ++stats_.create_requests;
  ApiReply reply;
  auto now = Clock::now();
  while (!recent_creates_.empty() && now - recent_creates_.front() >= std::chrono::seconds(1)) {
    recent_creates_.pop_front();
  }
  if (static_cast<int>(recent_creates_.size()) >= options_.max_creates_per_second) {
    ++stats_.rejected_429;
    return twilio_error(429, 20429, "Too Many Requests");
  }
  std::uniform_real_distribution<double> chance(0, 1);
  if (fault_budget_.create_429 > 0 || chance(rng_) < options_.faults.create_429) {
    fault_budget_.create_429 = std::max(0, fault_budget_.create_429 - 1);
    ++stats_.fault_429;
    return twilio_error(429, 20429, "Too Many Requests");
  }
  if (fault_budget_.create_5xx > 0 || chance(rng_) < options_.faults.create_5xx) {
    fault_budget_.create_5xx = std::max(0, fault_budget_.create_5xx - 1);
    ++stats_.fault_5xx;
    return twilio_error(500, 20500, "Internal Server Error");
  }
  if (fault_budget_.create_drop > 0 || chance(rng_) < options_.faults.create_drop) {
    fault_budget_.create_drop = std::max(0, fault_budget_.create_drop - 1);
    ++stats_.fault_drop;
    reply.drop_connection = true;
  }
  if (fault_budget_.slow_requests > 0 || chance(rng_) < options_.faults.slow) {
    int slow_ms = fault_budget_.slow_requests > 0 ? fault_budget_.slow_ms : options_.faults.slow_ms;
    fault_budget_.slow_requests = std::max(0, fault_budget_.slow_requests - 1);
    ++stats_.fault_slow;
    reply.delay = std::chrono::milliseconds(slow_ms);
  }

  auto reject = [&](int status, int code, const std::string& message) {
    ++(status == 409 ? stats_.rejected_409 : stats_.rejected_400);
    ApiReply error = twilio_error(status, code, message);
    error.delay = reply.delay;
    return error;
  };
  std::optional<std::string> to = param(request.form, "To");
  std::optional<std::string> from = param(request.form, "From");
  if (!to || to->empty()) return reject(400, 20001, "Missing required parameter To in the post body");
  if (!from || from->empty()) return reject(400, 20001, "Missing required parameter From in the post body");
  if (!is_e164(*to)) return reject(400, 21211, "The 'To' number " + *to + " is not a valid phone number.");
  if (!is_e164(*from))
    return reject(400, 21212, "The 'From' number " + *from + " is not a valid phone number.");
  json parameters = json::object();
  if (auto text = param(request.form, "Parameters"); text && !text->empty()) {
    auto parsed = parse_untrusted_json(*text);
    if (!parsed || !parsed->is_object()) return reject(400, 20001, "Parameters must be a JSON object");
    parameters = std::move(*parsed);
  }
  if (active_by_contact_.count(*to)) {
    return reject(409, 20409,
                  "Execution " + active_by_contact_[*to] + " is already active for contact " + *to);
  }

  auto execution = std::make_shared<Execution>();
  execution->sid = random_sid("FN");
  execution->call_sid = random_sid("CA");
  execution->flow_sid = flow_sid;
  execution->account_sid = flows_[flow_sid].account_sid;
  execution->to = *to;
  execution->from = *from;
  execution->data = parameters;
  execution->definition = flows_[flow_sid].definition;
  execution->flow_revision = flows_[flow_sid].revision;
  execution->date_created = execution->date_updated = iso_now();
  execution->current_state = execution->definition->value("initial_state", "Trigger");
  execution->rng.seed(rng_());
  auto& queued = scripts_[*to];
  if (!queued.empty()) {
    execution->script = queued.front();
    queued.pop_front();
  } else {
    execution->script = draw_script();
  }
  if (queued.empty()) scripts_.erase(*to);

  recent_creates_.push_back(now);
  ++stats_.executions_created;
  executions_[execution->sid] = execution;
  history_.push_back(execution);
  active_by_contact_[*to] = execution->sid;
  while (history_.size() > kMaxKeptExecutions) {
    const std::shared_ptr<Execution>& oldest = history_.front();
    if (is_active(*oldest)) break;
    auto listed = executions_.find(oldest->sid);
    if (listed != executions_.end() && listed->second == oldest) executions_.erase(listed);
    history_.pop_front();
  }
  reply.status = 201;
  reply.body = execution_json(*execution);
  lock.unlock();
  schedule_step(execution, std::chrono::milliseconds(0));
  return reply;
}

ApiReply StudioService::list_executions(const std::string& flow_sid, const ApiRequest& request) {
  std::string status = param(request.query, "Status").value_or(param(request.query, "status").value_or(""));
  int page_size = std::clamp(std::atoi(param(request.query, "PageSize").value_or("50").c_str()), 1, 1000);
  int page = std::max(0, std::atoi(param(request.query, "Page").value_or("0").c_str()));
  std::vector<std::shared_ptr<Execution>> matching;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
      auto found = executions_.find((*it)->sid);  // deleted ones are no longer the API's
      if (found != executions_.end() && found->second == *it && (*it)->flow_sid == flow_sid)
        matching.push_back(*it);
    }
  }
  json page_items = json::array();
  int skipped = 0;
  bool more = false;
  for (const auto& execution : matching) {
    std::lock_guard<std::mutex> lock(execution->mutex);
    if (!status.empty() && execution->status != status) continue;
    if (skipped++ < page * page_size) continue;
    if (static_cast<int>(page_items.size()) == page_size) {
      more = true;
      break;
    }
    page_items.push_back(execution_json(*execution));
  }
  std::string url = base_url_ + "/v2/Flows/" + flow_sid + "/Executions";
  std::string filter = status.empty() ? "" : "&Status=" + status;
  auto page_url = [&](int p) {
    return url + "?PageSize=" + std::to_string(page_size) + "&Page=" + std::to_string(p) + filter;
  };
  return ApiReply{200,
                  {{"executions", page_items},
                   {"meta",
                    {{"page", page},
                     {"page_size", page_size},
                     {"first_page_url", page_url(0)},
                     {"previous_page_url", page > 0 ? json(page_url(page - 1)) : json(nullptr)},
                     {"next_page_url", more ? json(page_url(page + 1)) : json(nullptr)},
                     {"url", page_url(page)},
                     {"key", "executions"}}}}};
}

ApiReply StudioService::update_execution(const std::shared_ptr<Execution>& execution,
                                         const ApiRequest& request) {
  std::optional<std::string> status = param(request.form, "Status");
  if (!status || (*status != "ended" && *status != "active")) {
    return twilio_error(400, 20001, "Status must be 'ended'");
  }
  if (*status == "ended") finish(execution);
  std::lock_guard<std::mutex> lock(execution->mutex);
  return ApiReply{200, execution_json(*execution)};
}

ApiReply StudioService::delete_execution(const std::string& sid) {
  std::shared_ptr<Execution> execution;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = executions_.find(sid);
    if (found == executions_.end()) return twilio_error(404, 20404, "Execution " + sid + " was not found");
    execution = found->second;
    executions_.erase(found);  // it stays in history_ (GET /__sim/executions) until trimmed
  }
  finish(execution);
  return ApiReply{204, nullptr};
}

ApiReply StudioService::save_flow(const std::string& flow_sid, const ApiRequest& request, bool validate_only,
                                  const std::string& account_sid) {
  std::optional<std::string> name = param(request.form, "FriendlyName");
  std::optional<std::string> status = param(request.form, "Status");
  std::optional<std::string> definition_text = param(request.form, "Definition");
  if (!name || name->empty())
    return twilio_error(400, 20001, "Missing required parameter FriendlyName in the post body");
  if (!status || (*status != "draft" && *status != "published")) {
    return twilio_error(400, 20001, "Status must be 'draft' or 'published'");
  }
  if (!definition_text)
    return twilio_error(400, 20001, "Missing required parameter Definition in the post body");
  auto parsed = parse_untrusted_json(*definition_text);
  json definition = parsed ? std::move(*parsed) : json(nullptr);
  std::vector<std::string> errors = validate_flow_definition(definition);
  if (!errors.empty()) {
    ApiReply reply = twilio_error(400, 20001, "Invalid Flow Definition");
    json details = json::array();
    for (const std::string& error : errors) details.push_back({{"message", error}});
    reply.body["details"] = {{"errors", details}};
    return reply;
  }
  if (validate_only) return ApiReply{200, {{"valid", true}}};
  std::lock_guard<std::mutex> lock(mutex_);
  auto [entry, created] = flows_.try_emplace(flow_sid.empty() ? random_sid("FW") : flow_sid);
  Flow& flow = entry->second;
  if (created) {
    flow.sid = entry->first;
    flow.account_sid = account_sid;
    flow.date_created = iso_now();
  } else {
    ++flow.revision;
  }
  flow.friendly_name = *name;
  flow.status = *status;
  flow.definition = std::make_shared<const json>(std::move(definition));
  flow.commit_message = param(request.form, "CommitMessage").value_or("");
  flow.date_updated = iso_now();
  return ApiReply{created ? 201 : 200, flow_json(flow)};
}

json StudioService::execution_json(const Execution& execution) const {
  std::string url = base_url_ + "/v2/Flows/" + execution.flow_sid + "/Executions/" + execution.sid;
  return {{"sid", execution.sid},
          {"account_sid", execution.account_sid},
          {"flow_sid", execution.flow_sid},
          {"context", json::object()},
          {"contact_channel_address", execution.to},
          {"contact_sid", nullptr},
          {"flow_version", execution.flow_revision},
          {"status", execution.status},
          {"date_created", execution.date_created},
          {"date_updated", execution.date_updated},
          {"initiated_by", nullptr},
          {"url", url},
          {"links", {{"steps", url + "/Steps"}, {"execution_context", url + "/Context"}}}};
}

json StudioService::flow_json(const Flow& flow) const {
  std::string url = base_url_ + "/v2/Flows/" + flow.sid;
  return {
      {"sid", flow.sid},
      {"account_sid", flow.account_sid},
      {"friendly_name", flow.friendly_name},
      {"definition", *flow.definition},
      {"status", flow.status},
      {"revision", flow.revision},
      {"commit_message", flow.commit_message},
      {"valid", true},
      {"errors", json::array()},
      {"warnings", json::array()},
      {"date_created", flow.date_created},
      {"date_updated", flow.date_updated},
      {"webhook_url", "https://webhooks.twilio.com/v1/Accounts/" + flow.account_sid + "/Flows/" + flow.sid},
      {"url", url},
      {"links",
       {{"test_users", url + "/TestUsers"},
        {"revisions", url + "/Revisions"},
        {"executions", url + "/Executions"}}}};
}

std::shared_ptr<Execution> StudioService::find_execution(const std::string& flow_sid,
                                                         const std::string& sid) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = executions_.find(sid);
  if (it == executions_.end() || it->second->flow_sid != flow_sid) return nullptr;
  return it->second;
}

std::string StudioService::random_sid(const char* prefix) {
  static const char kHex[] = "0123456789abcdef";
  std::string sid = prefix;
  for (int i = 0; i < 32; ++i) sid += kHex[rng_() % 16];
  return sid;
}

void StudioService::schedule_step(std::shared_ptr<Execution> execution, std::chrono::milliseconds delay) {
  queue_.run_after(delay, [this, execution = std::move(execution)]() mutable {
    StepResult step = run_step(*execution, walker_);
    if (step.ended) {
      finish(execution);
    } else {
      schedule_step(std::move(execution), step.delay);
    }
  });
}

void StudioService::finish(const std::shared_ptr<Execution>& execution) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::lock_guard<std::mutex> execution_lock(execution->mutex);
  if (execution->status != "ended") {
    execution->status = "ended";
    execution->date_updated = iso_now();
  }
  auto active = active_by_contact_.find(execution->to);
  if (active != active_by_contact_.end() && active->second == execution->sid)
    active_by_contact_.erase(active);
}

WebhookResult StudioService::send_and_count(const WebhookRequest& request) {
  auto token = tokens_.find(request.account_sid);  // each account signs with its own token
  WebhookResult result =
      send_webhook(request, token == tokens_.end() ? options_.auth_token : token->second, &stopping_);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.webhooks_sent;
  ++stats_.webhook_results[result.status_code != 0 ? std::to_string(result.status_code) : "error"];
  if (result.status_code == 0) stats_.last_webhook_error = result.error + " (" + request.url + ")";
  return result;
}

}  // namespace voxlog::sim
