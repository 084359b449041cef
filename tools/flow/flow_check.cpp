#include "tools/flow/flow_check.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

namespace voxlog {
namespace {

using json = nlohmann::json;

struct WidgetSpec {
  std::set<std::string> events;
  std::vector<std::string> required;  // non-empty string properties
  bool needs_say_or_play = false;
};

// Studio's widget types and the transition events each can take (Twilio's Studio widget documentation),
// plus three widgets for comparison.
const std::map<std::string, WidgetSpec>& widget_table() {
  static const std::map<std::string, WidgetSpec> table{
      {"trigger",
       {{"incomingMessage", "incomingCall", "incomingConversationMessage", "incomingRequest",
         "incomingParent"},
        {}}},
      {"set-variables", {{"next"}, {}}},
      {"make-outgoing-call-v2", {{"answered", "busy", "noAnswer", "failed"}, {"from", "to"}}},
      {"gather-input-on-call", {{"keypress", "speech", "timeout"}, {}, true}},
      {"split-based-on", {{"noMatch", "match"}, {"input"}}},
      {"make-http-request", {{"success", "failed"}, {"method", "url", "content_type"}}},
      {"say-play", {{"audioComplete"}, {}, true}},
      {"record-voicemail", {{"recordingComplete", "noAudio", "hangup"}, {}}},
      {"send-message", {{"sent", "failed"}, {"body"}}},
      {"run-function", {{"success", "fail"}, {"url"}}},
      {"connect-call-to", {{"callCompleted", "hangup"}, {}}},
  };
  return table;
}

const std::set<std::string>& condition_types() {
  static const std::set<std::string> types{"equal_to",
                                           "not_equal_to",
                                           "matches_any_of",
                                           "does_not_match_any_of",
                                           "is_blank",
                                           "is_not_blank",
                                           "regex",
                                           "contains",
                                           "does_not_contain",
                                           "starts_with",
                                           "does_not_start_with",
                                           "less_than",
                                           "greater_than",
                                           "is_before_time",
                                           "is_after_time",
                                           "is_before_date",
                                           "is_after_date"};
  return types;
}

const std::string kJsonContent = "application/json;charset=utf-8";
const std::string kFormContent = "application/x-www-form-urlencoded;charset=utf-8";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string string_at(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// Replaces each Liquid {{...}} / {%...%} with a JSON placeholder: "x" inside a string, 0 outside.
std::optional<std::string> with_placeholders(const std::string& body) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    char ch = body[i];
    if (in_string && ch == '\\' && i + 1 < body.size()) {
      out += body.substr(i, 2);
      ++i;
      continue;
    }
    if (ch == '{' && i + 1 < body.size() && (body[i + 1] == '{' || body[i + 1] == '%')) {
      std::string close = body[i + 1] == '{' ? "}}" : "%}";
      auto end = body.find(close, i + 2);
      if (end == std::string::npos) return std::nullopt;
      out += in_string ? "x" : "0";
      i = end + 1;
      continue;
    }
    if (ch == '"') in_string = !in_string;
    out += ch;
  }
  return out;
}

class Checker {
 public:
  explicit Checker(const json& flow) : flow_(flow) {}

  std::vector<std::string> run() {
    if (!flow_.is_object()) return {"the flow definition is not a JSON object"};
    check_top_level();
    if (!flow_.contains("states") || !flow_["states"].is_array()) return problems_;
    collect_names();
    for (const auto& state : flow_["states"]) check_state(state);
    check_initial_state();
    check_hard_coded_bases();
    return problems_;
  }

 private:
  void add(const std::string& text) { problems_.push_back(text); }
  void add(const std::string& state, const std::string& text) { add("state '" + state + "': " + text); }

  void check_top_level() {
    if (!flow_.contains("states") || !flow_["states"].is_array() || flow_["states"].empty()) {
      add("'states' must be a non-empty array");
    }
    if (string_at(flow_, "initial_state").empty()) add("'initial_state' must be a non-empty string");
    if (flow_.contains("description") && !flow_["description"].is_string())
      add("'description' must be a string");
    const json flags = flow_.value("flags", json());
    if (!flags.is_object() || !flags.contains("allow_concurrent_calls") ||
        !flags["allow_concurrent_calls"].is_boolean()) {
      add("'flags.allow_concurrent_calls' must be a boolean");
    }
  }

  void collect_names() {
    for (const auto& state : flow_["states"]) {
      std::string name = string_at(state, "name");
      if (name.empty()) continue;
      if (!names_.insert(name).second) add(name, "the name is used by more than one state");
      types_[name] = string_at(state, "type");
    }
  }

  void check_initial_state() {
    std::string initial = string_at(flow_, "initial_state");
    if (initial.empty()) return;
    if (!names_.count(initial)) {
      add("'initial_state' is '" + initial + "', which is not a state");
    } else if (types_[initial] != "trigger") {
      add("'initial_state' is '" + initial + "', a " + types_[initial] + ", not a trigger");
    }
  }

  void check_state(const json& state) {
    if (!state.is_object()) {
      add("a state is not an object");
      return;
    }
    std::string name = string_at(state, "name");
    if (name.empty()) {
      add("a state has no name");
      return;
    }
    std::string type = string_at(state, "type");
    auto spec = widget_table().find(type);
    if (spec == widget_table().end()) {
      std::vector<std::string> known;
      for (const auto& [widget, unused] : widget_table()) known.push_back(widget);
      add(name, "unknown widget type '" + type + "' (known: " + join(known) + ")");
      return;
    }
    const json properties = state.value("properties", json::object());
    if (!properties.is_object()) {
      add(name, "'properties' must be an object");
      return;
    }
    check_transitions(name, type, spec->second, state.value("transitions", json()));
    for (const auto& key : spec->second.required) {
      if (string_at(properties, key.c_str()).empty()) add(name, "property '" + key + "' is required");
    }
    if (spec->second.needs_say_or_play && string_at(properties, "say").empty() &&
        string_at(properties, "play").empty()) {
      add(name, "needs a 'say' or 'play' property");
    }
    if (type == "make-outgoing-call-v2" && properties.contains("timeout")) {
      const json& timeout = properties["timeout"];
      if (!timeout.is_number_integer() || timeout.get<int>() < 0 || timeout.get<int>() > 600) {
        add(name, "'timeout' must be an integer from 0 to 600");
      }
    }
    if (type == "set-variables") check_variables(name, properties.value("variables", json()));
    if (type == "make-http-request") check_webhook(name, properties);
  }

  void check_transitions(const std::string& name, const std::string& type, const WidgetSpec& spec,
                         const json& transitions) {
    if (!transitions.is_array()) {
      add(name, "'transitions' must be an array");
      return;
    }
    std::set<std::string> seen;
    for (const auto& transition : transitions) {
      if (!transition.is_object()) {
        add(name, "a transition is not an object");
        continue;
      }
      std::string event = string_at(transition, "event");
      if (!spec.events.count(event)) {
        add(name, "event '" + event + "' is not a " + type + " event (" +
                      join(std::vector<std::string>(spec.events.begin(), spec.events.end())) + ")");
        continue;
      }
      if (event != "match" && !seen.insert(event).second) add(name, "event '" + event + "' appears twice");
      if (event == "match") check_conditions(name, transition.value("conditions", json()));
      if (transition.contains("next")) {
        std::string next = string_at(transition, "next");
        if (!names_.count(next)) {
          add(name, "transition '" + event + "' goes to '" + next + "', which is not a state");
        }
      }
    }
  }

  void check_conditions(const std::string& name, const json& conditions) {
    if (!conditions.is_array() || conditions.empty()) {
      add(name, "a 'match' transition needs a non-empty 'conditions' array");
      return;
    }
    for (const auto& condition : conditions) {
      std::string type = string_at(condition, "type");
      if (!condition_types().count(type)) add(name, "unknown condition type '" + type + "'");
    }
  }

  void check_variables(const std::string& name, const json& variables) {
    if (!variables.is_array()) {
      add(name, "'variables' must be an array of {key, value}");
      return;
    }
    for (const auto& variable : variables) {
      std::string key = string_at(variable, "key");
      if (key.empty()) {
        add(name, "a variable has no key");
        continue;
      }
      variable_values_[key].push_back({name, string_at(variable, "value")});
    }
  }

  void check_webhook(const std::string& name, const json& properties) {
    std::string method = string_at(properties, "method");
    if (!method.empty() && method != "POST")
      add(name, "method must be POST (voxlogd's webhooks), not " + method);
    check_webhook_url(name, string_at(properties, "url"));
    std::string content_type = string_at(properties, "content_type");
    if (content_type == kJsonContent) {
      check_json_body(name, string_at(properties, "body"));
    } else if (content_type == kFormContent) {
      bool has_sid = false;
      for (const auto& parameter : properties.value("parameters", json::array())) {
        has_sid = has_sid || string_at(parameter, "key") == "execution_sid";
      }
      if (!has_sid) add(name, "the form parameters must include execution_sid ({{flow.sid}})");
    } else if (!content_type.empty()) {
      add(name, "content_type '" + content_type + "' is neither " + kJsonContent + " nor " + kFormContent);
    }
  }

  void check_webhook_url(const std::string& name, const std::string& url) {
    if (url.empty()) return;  // reported as a missing required property
    if (!starts_with(url, "{{")) {
      add(name, "url '" + url +
                    "' hard-codes its host; start it with a Liquid base such as "
                    "{{flow.variables.public_url}}");
      return;
    }
    auto close = url.find("}}");
    if (close == std::string::npos) {
      add(name, "url '" + url + "' has an unclosed Liquid expression");
      return;
    }
    std::string path = url.substr(close + 2);
    path = path.substr(0, path.find('?'));
    bool served = false;
    for (const auto& route : kVoxlogWebhookRoutes) served = served || path == route;
    if (!served) {
      add(name,
          "url path '" + path + "' is not a voxlogd webhook route (" + join(kVoxlogWebhookRoutes) + ")");
    }
    std::string base = url.substr(2, close - 2);
    base.erase(0, base.find_first_not_of(' '));
    base.erase(base.find_last_not_of(' ') + 1);
    const std::string prefix = "flow.variables.";
    if (starts_with(base, prefix)) base_users_[base.substr(prefix.size())].push_back(name);
  }

  void check_json_body(const std::string& name, const std::string& body) {
    auto placeholder = with_placeholders(body);
    if (!placeholder) {
      add(name, "the body has an unclosed Liquid expression");
      return;
    }
    json parsed = json::parse(*placeholder, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      add(name, "the body is not a JSON object once Liquid is filled in");
    } else if (!parsed.contains("execution_sid")) {
      add(name, "the JSON body must carry \"execution_sid\": \"{{flow.sid}}\"");
    }
  }

  // A Liquid base that a set-variables widget fills with a literal URL is a hard-coded host in disguise
  // (the seed flow's NGROK_URL): voxlog passes its public URL with every execution instead.
  void check_hard_coded_bases() {
    for (const auto& [variable, users] : base_users_) {
      auto values = variable_values_.find(variable);
      if (values == variable_values_.end()) continue;
      for (const auto& [setter, value] : values->second) {
        if (starts_with(value, "http://") || starts_with(value, "https://")) {
          add(setter, "variable '" + variable + "' hard-codes the webhook host '" + value + "' used by '" +
                          users.front() + "' (and " + std::to_string(users.size() - 1) +
                          " more); set it from {{flow.data.public_url}}");
        }
      }
    }
  }

  const json& flow_;
  std::vector<std::string> problems_;
  std::set<std::string> names_;
  std::map<std::string, std::string> types_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> variable_values_;
  std::map<std::string, std::vector<std::string>> base_users_;
};

bool is_name_char(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
}

// Adds to `names` every flow.data name that one Liquid expression reads: `flow.data.name` or
// `flow.data['name']` / `flow.data["name"]`.
void names_in_expression(const std::string& expression, std::set<std::string>& names) {
  const std::string prefix = "flow.data";
  for (auto at = expression.find(prefix); at != std::string::npos; at = expression.find(prefix, at + 1)) {
    if (at > 0 && (is_name_char(expression[at - 1]) || expression[at - 1] == '.')) continue;
    std::size_t i = at + prefix.size();
    std::string name;
    if (i < expression.size() && expression[i] == '.') {
      while (++i < expression.size() && is_name_char(expression[i])) name += expression[i];
    } else if (i + 1 < expression.size() && expression[i] == '[' &&
               (expression[i + 1] == '\'' || expression[i + 1] == '"')) {
      auto close = expression.find(expression[i + 1], i + 2);
      if (close != std::string::npos) name = expression.substr(i + 2, close - i - 2);
    }
    if (!name.empty()) names.insert(name);
  }
}

// Every string in `value`, recursively (keys are names, not Liquid, and are skipped).
void names_in_value(const json& value, std::set<std::string>& names) {
  if (value.is_structured()) {
    for (const auto& item : value) names_in_value(item, names);
    return;
  }
  if (!value.is_string()) return;
  const std::string& text = value.get_ref<const std::string&>();
  for (auto open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
    if (open + 1 >= text.size() || (text[open + 1] != '{' && text[open + 1] != '%')) continue;
    auto close = text.find(text[open + 1] == '{' ? "}}" : "%}", open + 2);
    if (close == std::string::npos) break;
    names_in_expression(text.substr(open + 2, close - open - 2), names);
    open = close;
  }
}

}  // namespace

std::vector<std::string> check_flow(const nlohmann::json& flow) {
  return Checker(flow).run();
}

std::map<std::string, std::vector<std::string>> flow_data_reads(const nlohmann::json& flow) {
  std::map<std::string, std::vector<std::string>> reads;
  if (!flow.is_object() || !flow.contains("states") || !flow["states"].is_array()) return reads;
  for (const auto& state : flow["states"]) {
    std::set<std::string> names;
    names_in_value(state, names);
    for (const auto& name : names) reads[name].push_back(string_at(state, "name"));
  }
  return reads;
}

std::vector<std::string> flow_data_warnings(const nlohmann::json& flow) {
  std::vector<std::string> warnings;
  for (const auto& [name, states] : flow_data_reads(flow)) {
    if (std::find(kVoxlogFlowData.begin(), kVoxlogFlowData.end(), name) != kVoxlogFlowData.end()) continue;
    std::vector<std::string> quoted;
    for (const auto& state : states) quoted.push_back("'" + state + "'");
    warnings.push_back("flow.data." + name + " (read by " + join(quoted) +
                       ") is not a parameter voxlog sends; it is set only when a campaign's CSV has a '" +
                       name + "' column (voxlog sends " + join(kVoxlogFlowData) + ")");
  }
  return warnings;
}

}  // namespace voxlog
