#include "tools/config/config.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace voxlog {
namespace {

const std::set<std::string>& secret_names() {
  static const std::set<std::string> names{"TWILIO_AUTH_TOKEN", "API_TOKEN"};
  return names;
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  auto begin = s.find_first_not_of(ws);
  if (begin == std::string::npos) return "";
  auto end = s.find_last_not_of(ws);
  return s.substr(begin, end - begin + 1);
}

std::string strip_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool is_http_url(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

bool valid_key(const std::string& key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char ch : key) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  }
  return true;
}

// Parses the value part of a .env line: "quoted" (with \n \" \\ escapes), 'literal', or bare text where
// " #" starts a comment. Returns false when a quote is not closed or text follows the closing quote.
bool parse_env_value(const std::string& raw, std::string& out) {
  std::string text = trim(raw);
  out.clear();
  if (text.empty()) return true;
  char quote = text[0];
  if (quote != '"' && quote != '\'') {
    auto comment = text.find(" #");
    if (comment == std::string::npos) comment = text.find("\t#");
    out = trim(text.substr(0, comment));
    return true;
  }
  std::size_t i = 1;
  for (; i < text.size() && text[i] != quote; ++i) {
    if (quote == '"' && text[i] == '\\' && i + 1 < text.size()) {
      char next = text[++i];
      out += next == 'n' ? '\n' : next == 't' ? '\t' : next;
    } else {
      out += text[i];
    }
  }
  if (i >= text.size()) return false;  // no closing quote
  std::string rest = trim(text.substr(i + 1));
  return rest.empty() || rest[0] == '#';
}

// Mentions a value in an error only when it is not a secret.
std::string shown(const std::string& name, const std::string& value) {
  if (secret_names().count(name)) return name;
  return name + "='" + value + "'";
}

Status parse_long(const std::string& name, const std::string& value, long min, long max, long& out) {
  errno = 0;
  char* end = nullptr;
  long parsed = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE || parsed < min || parsed > max) {
    return invalid_argument(shown(name, value) + " must be an integer from " + std::to_string(min) + " to " +
                            std::to_string(max));
  }
  out = parsed;
  return Status::ok();
}

Status parse_positive_double(const std::string& name, const std::string& value, double& out) {
  char* end = nullptr;
  double parsed = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !std::isfinite(parsed) || parsed <= 0) {
    return invalid_argument(shown(name, value) + " must be a number greater than 0");
  }
  out = parsed;
  return Status::ok();
}

std::vector<std::string> split_commas(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = strip_trailing_slashes(trim(item));
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::string masked(const std::string& secret) {
  if (secret.empty()) return "(unset)";
  return "***(" + std::to_string(secret.size()) + " chars)";
}

// Keeps the "AC" prefix and the last 4 characters: enough to tell accounts apart in a log.
std::string abbreviated_sid(const std::string& sid) {
  if (sid.empty()) return "(unset)";
  if (sid.size() <= 8) return "***";
  return sid.substr(0, 2) + "..." + sid.substr(sid.size() - 4);
}

}  // namespace

bool Config::simulate() const {
  return twilio_account_sid.empty() || twilio_auth_token.empty();
}

const std::vector<std::string>& config_variable_names() {
  static const std::vector<std::string> names{"PORT",
                                              "BIND_ADDRESS",
                                              "PUBLIC_URL",
                                              "NGROK_URL",
                                              "DATA_DIR",
                                              "API_TOKEN",
                                              "TWILIO_ACCOUNT_SID",
                                              "TWILIO_AUTH_TOKEN",
                                              "TWILIO_PHONE_NUMBER",
                                              "TWILIO_FLOW_SID",
                                              "TWILIO_API_BASE",
                                              "TWILIO_CPS",
                                              "DEFAULT_REGION",
                                              "ALLOWED_ORIGINS",
                                              "MAX_BODY_BYTES",
                                              "SIM_TIME_SCALE"};
  return names;
}

Result<std::map<std::string, std::string>> read_env_file(const std::string& path) {
  std::map<std::string, std::string> values;
  std::ifstream in(path);
  if (!in) return values;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (text.rfind("export ", 0) == 0) text = trim(text.substr(7));
    auto eq = text.find('=');
    std::string where = path + ":" + std::to_string(number);
    if (eq == std::string::npos) return invalid_argument(where + ": expected KEY=VALUE");
    std::string key = trim(text.substr(0, eq));
    if (!valid_key(key)) return invalid_argument(where + ": the name before '=' is not a variable name");
    std::string value;
    if (!parse_env_value(text.substr(eq + 1), value)) {
      return invalid_argument(where + ": " + key + " has an unterminated quote or text after the quote");
    }
    values[key] = value;
  }
  if (in.bad()) return unavailable("cannot read " + path);
  return values;
}

Result<Config> config_from(const std::map<std::string, std::string>& environment,
                           const std::string& env_file) {
  auto from_file = read_env_file(env_file);
  if (!from_file) return from_file.status();
  auto lookup = [&](const std::string& name) -> std::string {
    if (auto it = environment.find(name); it != environment.end()) return trim(it->second);
    if (auto it = from_file->find(name); it != from_file->end()) return trim(it->second);
    return "";
  };

  Config c;
  if (auto v = lookup("PORT"); !v.empty()) {
    long port = 0;
    if (auto st = parse_long("PORT", v, 0, 65535, port); !st) return st;
    c.port = static_cast<int>(port);
  }
  if (auto v = lookup("BIND_ADDRESS"); !v.empty()) c.bind_address = v;
  // PUBLIC_URL wins over NGROK_URL wherever each one was set: it is the name this program documents.
  std::string public_name = lookup("PUBLIC_URL").empty() ? "NGROK_URL" : "PUBLIC_URL";
  if (auto v = lookup(public_name); !v.empty()) {
    if (!is_http_url(v))
      return invalid_argument(shown(public_name, v) + " must start with http:// or https://");
    c.public_url = strip_trailing_slashes(v);
  }
  if (auto v = lookup("DATA_DIR"); !v.empty()) c.data_dir = v;
  c.api_token = lookup("API_TOKEN");
  c.twilio_account_sid = lookup("TWILIO_ACCOUNT_SID");
  c.twilio_auth_token = lookup("TWILIO_AUTH_TOKEN");
  c.twilio_phone_number = lookup("TWILIO_PHONE_NUMBER");
  c.twilio_flow_sid = lookup("TWILIO_FLOW_SID");
  if (!c.twilio_account_sid.empty() && c.twilio_account_sid.rfind("AC", 0) != 0) {
    return invalid_argument(shown("TWILIO_ACCOUNT_SID", c.twilio_account_sid) + " must start with AC");
  }
  if (!c.twilio_flow_sid.empty() && c.twilio_flow_sid.rfind("FW", 0) != 0) {
    return invalid_argument(shown("TWILIO_FLOW_SID", c.twilio_flow_sid) + " must start with FW");
  }
  if (auto v = lookup("TWILIO_API_BASE"); !v.empty()) {
    if (!is_http_url(v))
      return invalid_argument(shown("TWILIO_API_BASE", v) + " must start with http:// or https://");
    c.twilio_api_base = strip_trailing_slashes(v);
  }
  if (auto v = lookup("TWILIO_CPS"); !v.empty()) {
    if (auto st = parse_positive_double("TWILIO_CPS", v, c.twilio_cps); !st) return st;
  }
  if (auto v = lookup("DEFAULT_REGION"); !v.empty()) {
    bool two_letters = v.size() == 2 && std::isalpha(static_cast<unsigned char>(v[0])) &&
                       std::isalpha(static_cast<unsigned char>(v[1]));
    if (!two_letters)
      return invalid_argument(shown("DEFAULT_REGION", v) + " must be a two-letter region code");
    for (auto& ch : v) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    c.default_region = v;
  }
  if (auto v = lookup("ALLOWED_ORIGINS"); !v.empty()) {
    c.allowed_origins = split_commas(v);
  } else {
    c.allowed_origins = {"http://localhost:3000"};
    if (!c.public_url.empty()) c.allowed_origins.push_back(c.public_url);
  }
  if (auto v = lookup("MAX_BODY_BYTES"); !v.empty()) {
    long bytes = 0;
    if (auto st = parse_long("MAX_BODY_BYTES", v, 1, 1L << 30, bytes); !st) return st;
    c.max_body_bytes = static_cast<std::size_t>(bytes);
  }
  if (auto v = lookup("SIM_TIME_SCALE"); !v.empty()) {
    if (auto st = parse_positive_double("SIM_TIME_SCALE", v, c.sim_time_scale); !st) return st;
  }
  return c;
}

Result<Config> load_config(const std::string& env_file) {
  std::map<std::string, std::string> environment;
  for (const auto& name : config_variable_names()) {
    if (const char* value = std::getenv(name.c_str())) environment[name] = value;
  }
  return config_from(environment, env_file);
}

std::string describe(const Config& c) {
  std::ostringstream out;
  out << "port=" << c.port << " bind=" << c.bind_address
      << " public_url=" << (c.public_url.empty() ? "(unset)" : c.public_url) << " data_dir=" << c.data_dir
      << " api_token=" << masked(c.api_token) << " twilio=" << (c.simulate() ? "simulator" : "live")
      << " account=" << abbreviated_sid(c.twilio_account_sid) << " auth_token=" << masked(c.twilio_auth_token)
      << " from=" << (c.twilio_phone_number.empty() ? "(unset)" : c.twilio_phone_number)
      << " flow=" << (c.twilio_flow_sid.empty() ? "(unset)" : c.twilio_flow_sid)
      << " api_base=" << c.twilio_api_base << " cps=" << c.twilio_cps << " region=" << c.default_region
      << " origins=";
  for (std::size_t i = 0; i < c.allowed_origins.size(); ++i) out << (i ? "," : "") << c.allowed_origins[i];
  out << " max_body_bytes=" << c.max_body_bytes << " sim_time_scale=" << c.sim_time_scale;
  return out.str();
}

}  // namespace voxlog
