// The simulator's admin routes (/__sim/...) and the random outcome mix: how tests steer and observe the
// simulation.
#include "tools/simulator/studio_service.hpp"

#include "eventstore/json_fields.hpp"

namespace voxlog::sim {
namespace {

using nlohmann::json;

template <size_t N>
size_t weighted_pick(std::mt19937_64& rng, const double (&weights)[N]) {
  double total = 0;
  for (double w : weights) total += std::max(0.0, w);
  if (total <= 0) return 0;
  double x = std::uniform_real_distribution<double>(0, total)(rng);
  size_t last = 0;
  for (size_t i = 0; i < N; ++i) {
    if (weights[i] <= 0) continue;  // a disabled outcome is never drawn, not even by rounding
    last = i;
    x -= weights[i];
    if (x < 0) return i;
  }
  return last;
}

const char* const kAnswers[] = {"human", "machine", "busy", "no-answer", "failed"};

bool is_known_answer(const std::string& answer) {
  for (const char* known : kAnswers) {
    if (answer == known) return true;
  }
  return false;
}

}  // namespace

CallScript StudioService::draw_script() {
  const OutcomeMix& mix = options_.mix;
  CallScript script;
  const double answers[] = {mix.human, mix.machine, mix.busy, mix.no_answer, mix.failed};
  script.answer = kAnswers[weighted_pick(rng_, answers)];
  // digit_9 comes last so that a mix without it draws exactly what it drew before 9 existed.
  const double keys[] = {mix.digit_1, mix.digit_2, mix.digit_0, mix.digit_other, mix.digit_none, mix.digit_9};
  const char* const choices[] = {"1", "2", "0", "5", "", "9"};
  for (int gather = 0; gather < 4; ++gather) script.digits.push_back(choices[weighted_pick(rng_, keys)]);
  const double voicemail[] = {mix.voicemail_recorded, mix.voicemail_empty};
  script.voicemail = weighted_pick(rng_, voicemail) == 0 ? "recorded" : "empty";
  return script;
}

ApiReply StudioService::handle_admin(const ApiRequest& request, const std::string& route) {
  if (route == "stats" && request.method == "GET") return ApiReply{200, stats_json()};
  if (route == "executions" && request.method == "GET") return admin_executions(request);
  if (request.method != "POST" || (route != "script" && route != "faults")) {
    return twilio_error(404, 20404, "No admin route " + request.method + " /__sim/" + route);
  }
  auto parsed = parse_untrusted_json(request.body);
  if (!parsed || !parsed->is_object()) return twilio_error(400, 20001, "The body must be a JSON object");
  json body = std::move(*parsed);

  if (route == "faults") {
    FaultBudget budget;
    try {
      budget.create_5xx = body.value("create_5xx", 0);
      budget.create_drop = body.value("create_drop", 0);
      budget.create_429 = body.value("create_429", 0);
      budget.slow_ms = body.value("slow_ms", 0);
      budget.slow_requests = body.value("slow_requests", budget.slow_ms > 0 ? 1 : 0);
    } catch (const json::exception&) {
      return twilio_error(400, 20001, "Fault counts must be integers");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    fault_budget_ = budget;
    return ApiReply{200, {{"faults", body}}};
  }

  CallScript script;
  std::string to;
  try {
    to = body.at("to").get<std::string>();
    script.answer = body.value("answer", "human");
    script.hangup = body.value("hangup", false);
    script.voicemail = body.value("voicemail", "recorded");
    if (body.contains("digits_sequence")) {
      script.digits = body["digits_sequence"].get<std::vector<std::string>>();
    } else {
      script.digits = {body.value("digits", "")};
    }
  } catch (const json::exception&) {
    return twilio_error(400, 20001, "A script needs \"to\" and string fields answer, digits, voicemail");
  }
  if (!is_known_answer(script.answer)) {
    return twilio_error(400, 20001, "answer must be human, machine, busy, no-answer or failed");
  }
  if (script.voicemail != "recorded" && script.voicemail != "empty") {
    return twilio_error(400, 20001, "voicemail must be recorded or empty");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  scripts_[to].push_back(script);
  return ApiReply{200, {{"scripted", body}, {"queued_for_number", scripts_[to].size()}}};
}

// Every execution created, oldest first, whatever became of it (ended, deleted): tests prove with it that
// nobody was dialled twice and hear what each callee heard.
ApiReply StudioService::admin_executions(const ApiRequest& request) {
  std::optional<std::string> to;
  for (const auto& [key, value] : request.query) {
    if (key == "to") to = value;
  }
  // An unescaped `+` in a query string decodes as a space; no phone number starts with one.
  if (to && !to->empty() && to->front() == ' ') to->front() = '+';
  std::vector<std::shared_ptr<Execution>> kept;
  uint64_t created = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    kept.assign(history_.begin(), history_.end());
    created = stats_.executions_created;
  }
  json executions = json::array();
  for (const auto& execution : kept) {
    std::lock_guard<std::mutex> lock(execution->mutex);
    if (to && execution->to != *to) continue;
    executions.push_back({{"sid", execution->sid},
                          {"account_sid", execution->account_sid},
                          {"flow_sid", execution->flow_sid},
                          {"call_sid", execution->call_sid},
                          {"to", execution->to},
                          {"from", execution->from},
                          {"parameters", execution->data},
                          {"date_created", execution->date_created},
                          {"status", execution->status},
                          {"heard", execution->heard}});
  }
  // `forgotten`: created but no longer kept (the oldest beyond the retention limit), so a test can tell
  // a complete history from a truncated one.
  return ApiReply{200, {{"executions", executions}, {"forgotten", created - kept.size()}}};
}

json StudioService::stats_json() {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t active = active_by_contact_.size();
  return {{"create_requests", stats_.create_requests},
          {"executions_created", stats_.executions_created},
          {"active_executions", active},
          {"rejected",
           {{"401", stats_.rejected_401},
            {"400", stats_.rejected_400},
            {"404", stats_.rejected_404},
            {"409", stats_.rejected_409},
            {"429", stats_.rejected_429}}},
          {"faults",
           {{"5xx", stats_.fault_5xx},
            {"drop", stats_.fault_drop},
            {"429", stats_.fault_429},
            {"slow", stats_.fault_slow}}},
          {"webhooks_sent", stats_.webhooks_sent},
          {"webhook_results", stats_.webhook_results},
          {"last_webhook_error", stats_.last_webhook_error}};
}

}  // namespace voxlog::sim
