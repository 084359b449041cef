#include "tools/simulator/flow_walker.hpp"

#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"
#include "tools/simulator/liquid.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>

namespace voxlog::sim {
namespace {

using nlohmann::json;

constexpr int kMaxSteps = 1000;  // Studio ends an execution after 1,000 steps

const json* find_state(const json& definition, const std::string& name) {
  for (const json& state : definition["states"]) {
    if (state.value("name", "") == name) return &state;
  }
  return nullptr;
}

// The `next` of the transition for `event`; empty when the transition ends the flow.
std::string next_for(const json& state, const std::string& event) {
  for (const json& transition : state["transitions"]) {
    if (transition.value("event", "") == event) return transition.value("next", "");
  }
  return "";
}

double uniform(Execution& execution, double low, double high) {
  return std::uniform_real_distribution<double>(low, high)(execution.rng);
}

std::string hex_id(Execution& execution, const char* prefix) {
  static const char kHex[] = "0123456789abcdef";
  std::string id = prefix;
  for (int i = 0; i < 32; ++i) id += kHex[execution.rng() % 16];
  return id;
}

bool parse_number(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0';
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t comma = text.find(',', begin);
    std::string item = text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    items.push_back(lower_ascii(item));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return items;
}

// Studio compares text case-insensitively and numbers numerically.
bool condition_holds(const std::string& type, const std::string& subject, const std::string& value) {
  const std::string a = lower_ascii(subject), b = lower_ascii(value);
  double x = 0, y = 0;
  const bool numeric = parse_number(subject, x) && parse_number(value, y);
  if (type == "equal_to") return numeric ? x == y : a == b;
  if (type == "not_equal_to") return numeric ? x != y : a != b;
  if (type == "is_blank") return subject.empty();
  if (type == "is_not_blank") return !subject.empty();
  if (type == "contains") return a.find(b) != std::string::npos;
  if (type == "does_not_contain") return a.find(b) == std::string::npos;
  if (type == "starts_with") return a.rfind(b, 0) == 0;
  if (type == "does_not_start_with") return a.rfind(b, 0) != 0;
  if (type == "less_than") return numeric ? x < y : a < b;
  if (type == "greater_than") return numeric ? x > y : a > b;
  if (type == "matches_any_of" || type == "does_not_match_any_of") {
    auto items = split_list(value);
    bool any = std::find(items.begin(), items.end(), a) != items.end();
    return type == "matches_any_of" ? any : !any;
  }
  if (type == "regex") {
    try {
      return std::regex_search(subject, std::regex(value));
    } catch (const std::regex_error&) {
      return false;
    }
  }
  return false;
}

std::string text_of(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.is_null() ? "" : value.dump();
}

struct Transition {
  std::string event;
  double seconds = 0;  // simulated time the widget took
  bool end_call = false;
};

// The prompt as the callee hears it, rendered when the widget starts to speak.
void record_heard(Execution& execution, const json& properties) {
  json scope = execution.liquid_scope();
  std::string say = render_liquid(text_of(properties.value("say", json(""))), scope);
  if (say.empty() && properties.contains("play")) {
    say = "play: " + render_liquid(text_of(properties["play"]), scope);
  }
  execution.heard.push_back(std::move(say));
}

Transition run_outgoing_call(Execution& execution, const json& properties, json& outputs) {
  const std::string& answer = execution.script.answer;
  const bool detect = properties.value("detect_answering_machine", false);
  outputs = {{"CallSid", execution.call_sid},
             {"AccountSid", execution.account_sid},
             {"To", execution.to},
             {"From", execution.from}};
  const double ring = uniform(execution, 2, 8);
  if (answer == "busy") {
    outputs["CallStatus"] = "busy";
    return {"busy", uniform(execution, 1, 4)};
  }
  if (answer == "no-answer") {
    outputs["CallStatus"] = "no-answer";
    return {"noAnswer", properties.value("timeout", 60.0)};
  }
  if (answer == "failed") {
    outputs["CallStatus"] = "failed";
    return {"failed", uniform(execution, 0.2, 1)};
  }
  outputs["CallStatus"] = "in-progress";
  if (detect) {
    bool message_end = properties.value("machine_detection", "") == "DetectMessageEnd";
    outputs["AnsweredBy"] =
        answer == "machine" ? (message_end ? "machine_end_beep" : "machine_start") : "human";
    outputs["MachineDetectionDuration"] = std::to_string(static_cast<int>(uniform(execution, 1500, 4500)));
    return {"answered", ring + uniform(execution, 1.5, 4.5) + (answer == "machine" && message_end ? 10 : 0)};
  }
  return {"answered", ring};
}

Transition run_gather(Execution& execution, const json& properties, json& outputs) {
  const auto& digits = execution.script.digits;
  std::string pressed =
      digits.empty() ? "" : digits[std::min<size_t>(execution.gathers_run, digits.size() - 1)];
  ++execution.gathers_run;
  const double message = uniform(execution, 10, 20);
  const int loops = std::max(1, properties.value("loop", 1));
  outputs = json::object();
  if (pressed.empty()) {
    if (execution.script.hangup) return {"", message / 2, true};
    return {"timeout", loops * (message + properties.value("timeout", 5))};
  }
  outputs["Digits"] = pressed;
  if (execution.script.hangup) execution.hung_up = true;
  return {"keypress", uniform(execution, 2, message)};
}

Transition run_record_voicemail(Execution& execution, const json& properties, json& outputs) {
  auto recording = [&](double seconds) {
    std::string recording_sid = hex_id(execution, "RE");
    outputs = {{"RecordingSid", recording_sid},
               {"RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/" + execution.account_sid +
                                    "/Recordings/" + recording_sid},
               {"RecordingDuration", std::to_string(static_cast<int>(seconds))}};
  };
  if (execution.hung_up) {
    recording(0);
    return {"hangup", 0};
  }
  if (execution.script.voicemail == "empty") {
    outputs = json::object();
    return {"noAudio", static_cast<double>(properties.value("timeout", 5))};
  }
  double seconds = uniform(execution, 5, 20);
  recording(seconds);
  return {"recordingComplete", seconds};
}

// Runs a make-http-request widget; unlocks `lock` while the request is in flight.
Transition run_http_request(Execution& execution, const json& properties, json& outputs,
                            std::unique_lock<std::mutex>& lock, const WalkerEnvironment& environment) {
  json scope = execution.liquid_scope();
  WebhookRequest request;
  request.account_sid = execution.account_sid;
  request.method = properties.value("method", "POST");
  request.url = render_liquid(properties.value("url", ""), scope);
  request.content_type = properties.value("content_type", "application/x-www-form-urlencoded;charset=utf-8");
  if (request.content_type.find("json") != std::string::npos) {
    request.json_body = render_liquid(properties.value("body", ""), scope);
  } else {
    for (const json& parameter : properties.value("parameters", json::array())) {
      request.form.emplace_back(render_liquid(text_of(parameter.value("key", json())), scope),
                                render_liquid(text_of(parameter.value("value", json())), scope));
    }
  }
  lock.unlock();
  WebhookResult result = environment.send(request);
  lock.lock();
  outputs = {
      {"status_code", result.status_code}, {"body", result.body}, {"content_type", result.content_type}};
  if (result.content_type.find("json") != std::string::npos) {
    auto parsed = parse_untrusted_json(result.body);
    if (parsed && parsed->is_object()) outputs["parsed"] = std::move(*parsed);
  }
  bool success = result.status_code >= 200 && result.status_code < 300;
  return {success ? "success" : "failed", 0};
}

Transition run_split(Execution& execution, const json& state) {
  json scope = execution.liquid_scope();
  std::string input = render_liquid(state["properties"].value("input", ""), scope);
  for (const json& transition : state["transitions"]) {
    if (transition.value("event", "") != "match") continue;
    bool all = true;
    for (const json& condition : transition.value("conditions", json::array())) {
      auto arguments = condition.value("arguments", json::array());
      std::string subject = arguments.empty() ? input : render_liquid(text_of(arguments[0]), scope);
      all = all && condition_holds(condition.value("type", ""), subject,
                                   render_liquid(text_of(condition.value("value", json(""))), scope));
    }
    if (all) return {"match:" + transition.value("next", ""), 0};
  }
  return {"noMatch", 0};
}

}  // namespace

StepResult run_step(Execution& execution, const WalkerEnvironment& environment) {
  std::unique_lock<std::mutex> lock(execution.mutex);
  StepResult result;
  const json* state = find_state(*execution.definition, execution.current_state);
  if (execution.status != "active" || state == nullptr ||
      static_cast<int>(execution.steps.size()) >= kMaxSteps) {
    result.ended = true;
    return result;
  }
  const std::string type = state->value("type", "");
  const json properties = state->value("properties", json::object());
  const std::string name = execution.current_state;
  json outputs;
  bool has_outputs = true;
  Transition transition;
  const bool voice_widget = type == "say-play" || type == "gather-input-on-call";
  const json* after = find_state(*execution.definition, next_for(*state, "audioComplete"));
  const bool voicemail_prompt = type == "say-play" && after && after->value("type", "") == "record-voicemail";

  if (voice_widget && execution.hung_up && !voicemail_prompt) {
    transition.end_call = true;
  } else if (type == "trigger") {
    transition.event = "incomingRequest";
    has_outputs = false;
  } else if (type == "set-variables") {
    json scope = execution.liquid_scope();
    for (const json& variable : properties.value("variables", json::array())) {
      execution.variables[variable.value("key", "")] =
          render_liquid(text_of(variable.value("value", json())), scope);
    }
    transition.event = "next";
    has_outputs = false;
  } else if (type == "make-outgoing-call-v2") {
    transition = run_outgoing_call(execution, properties, outputs);
  } else if (type == "gather-input-on-call") {
    record_heard(execution, properties);
    transition = run_gather(execution, properties, outputs);
  } else if (type == "say-play") {
    record_heard(execution, properties);
    transition = {"audioComplete", std::max(1, properties.value("loop", 1)) * uniform(execution, 4, 10)};
    has_outputs = false;
  } else if (type == "record-voicemail") {
    transition = run_record_voicemail(execution, properties, outputs);
  } else if (type == "make-http-request") {
    transition = run_http_request(execution, properties, outputs, lock, environment);
  } else if (type == "split-based-on") {
    transition = run_split(execution, *state);
    has_outputs = false;
  } else {
    transition.end_call = true;  // a widget the simulator does not know: stop rather than guess
  }

  if (has_outputs) execution.widgets[name] = outputs;
  std::string next;
  if (transition.event.rfind("match:", 0) == 0) {
    next = transition.event.substr(6);
    transition.event = "match";
  } else if (!transition.end_call) {
    next = next_for(*state, transition.event);
  }
  execution.steps.push_back({{"name", name}, {"type", type}, {"event", transition.event}, {"next", next}});
  execution.current_state = next;
  result.ended = next.empty();
  result.delay =
      std::chrono::milliseconds(static_cast<int64_t>(transition.seconds * 1000 * environment.time_scale));
  return result;
}

std::vector<std::string> validate_flow_definition(const json& definition) {
  std::vector<std::string> errors;
  if (!definition.is_object()) return {"the definition must be a JSON object"};
  if (!definition.contains("states") || !definition["states"].is_array() || definition["states"].empty()) {
    return {"'states' must be a non-empty array"};
  }
  std::set<std::string> names;
  for (const json& state : definition["states"]) {
    if (!state.is_object() || !state.contains("name") || !state["name"].is_string()) {
      errors.push_back("every state needs a string 'name'");
      continue;
    }
    if (!names.insert(state["name"].get<std::string>()).second) {
      errors.push_back("duplicate state name '" + state["name"].get<std::string>() + "'");
    }
    if (!state.contains("type") || !state["type"].is_string()) {
      errors.push_back("state '" + state["name"].get<std::string>() + "' has no 'type'");
    }
    if (!state.contains("transitions") || !state["transitions"].is_array()) {
      errors.push_back("state '" + state["name"].get<std::string>() + "' has no 'transitions' array");
    }
  }
  const std::string initial = definition.value("initial_state", "");
  if (initial.empty() || !names.count(initial)) errors.push_back("'initial_state' must name a state");
  if (!definition.contains("flags") || !definition["flags"].is_object() ||
      !definition["flags"].contains("allow_concurrent_calls")) {
    errors.push_back("'flags.allow_concurrent_calls' is required");
  }
  for (const json& state : definition["states"]) {
    if (!state.is_object() || !state.contains("transitions") || !state["transitions"].is_array()) continue;
    for (const json& transition : state["transitions"]) {
      std::string next = transition.is_object() ? transition.value("next", "") : "";
      if (!next.empty() && !names.count(next)) {
        errors.push_back("state '" + state.value("name", "") + "' goes to unknown state '" + next + "'");
      }
    }
  }
  return errors;
}

}  // namespace voxlog::sim
