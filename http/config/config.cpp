#include "http/config/config.hpp"

#include "eventstore/log_url.hpp"
#include "eventstore/text.hpp"
#include "http/config/api_tokens.hpp"
#include "http/config/config_text.hpp"
#include "http/config/twilio_accounts.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include <arpa/inet.h>
#include <unistd.h>  // environ

namespace voxlog {
namespace {

using config_text::trim;

const std::set<std::string>& secret_names() {
  static const std::set<std::string> names{"TWILIO_AUTH_TOKEN", "API_TOKEN", "API_TOKENS", "METRICS_TOKEN",
                                           "LOG_URL"};
  return names;
}

std::string strip_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool is_http_url(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
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

// Says whether a secret is set, never anything about it (not even its length).
std::string masked(const std::string& secret) {
  return secret.empty() ? "(unset)" : "set";
}

Status parse_switch(const std::string& name, const std::string& value, bool& out) {
  std::string v;
  for (char ch : value) v += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (v == "on" || v == "true" || v == "1" || v == "yes") {
    out = true;
  } else if (v == "off" || v == "false" || v == "0" || v == "no") {
    out = false;
  } else {
    return invalid_argument(shown(name, value) + " must be on or off");
  }
  return Status::ok();
}

Status parse_size(const std::string& name, const std::string& value, long min, long max, std::size_t& out) {
  long parsed = 0;
  if (auto st = parse_long(name, value, min, max, parsed); !st) return st;
  out = static_cast<std::size_t>(parsed);
  return Status::ok();
}

// "https://Example.com:8443/x" -> "example.com"; "" when it has no host.
std::string host_of_url(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return {};
  start += 3;
  auto end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  std::string host;
  if (!authority.empty() && authority[0] == '[') {
    host = authority.substr(0, authority.find(']') + 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  for (auto& ch : host) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return host;
}

// Keeps the "AC" prefix and the last 4 characters: enough to tell accounts apart in a log.
std::string abbreviated_sid(const std::string& sid) {
  if (sid.empty()) return "(unset)";
  if (sid.size() <= 8) return "***";
  return sid.substr(0, 2) + "..." + sid.substr(sid.size() - 4);
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::metrics: return "metrics";
    case Role::viewer: return "viewer";
    case Role::operator_: return "operator";
    case Role::admin: return "admin";
  }
  return "unknown";
}

bool is_loopback_address(const std::string& address) {
  if (address == "localhost" || address == "::1" || address == "[::1]") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

Status check_exposure(const Config& c) {
  bool loopback = is_loopback_address(c.bind_address);
  if (!loopback && !c.tokens_required())
    return failed_precondition(
        "BIND_ADDRESS='" + c.bind_address +
        "' would let anyone who reaches this port place calls and read every number: set "
        "API_TOKEN (or API_TOKENS / API_TOKENS_FILE) first, or bind 127.0.0.1");
  if (!loopback && !c.verify_webhooks)
    return failed_precondition(
        "VERIFY_WEBHOOKS=off is honoured on a loopback BIND_ADDRESS only: anyone could "
        "forge a key press on '" +
        c.bind_address + "'");
  for (const auto& origin : c.allowed_origins)
    if (origin == "*" && !c.tokens_required())
      return failed_precondition(
          "ALLOWED_ORIGINS='*' needs API_TOKEN: without a token any web page could "
          "place calls through the operator's browser");
  return Status::ok();
}

bool Config::simulate() const {
  if (twilio_accounts.empty()) return twilio_account_sid.empty() || twilio_auth_token.empty();
  return twilio_accounts.front().account_sid.empty() || twilio_accounts.front().auth_token.empty();
}

const std::vector<std::string>& config_variable_names() {
  static const std::vector<std::string> names{"PORT",
                                              "BIND_ADDRESS",
                                              "PUBLIC_URL",
                                              "NGROK_URL",
                                              "DATA_DIR",
                                              "LOG_URL",
                                              "API_TOKEN",
                                              "API_TOKENS",
                                              "API_TOKENS_FILE",
                                              "METRICS_TOKEN",
                                              "TWILIO_ACCOUNT_SID",
                                              "TWILIO_AUTH_TOKEN",
                                              "TWILIO_PHONE_NUMBER",
                                              "TWILIO_FLOW_SID",
                                              "TWILIO_REGION",
                                              "TWILIO_ACCOUNTS",
                                              "TWILIO_API_BASE",
                                              "TWILIO_CPS",
                                              "MAX_CAMPAIGN_CONTACTS",
                                              "MAX_IMPORT_BYTES",
                                              "DIAL_WORKERS",
                                              "CAMPAIGN_CHECK_MS",
                                              "CLOCK_SCALE",
                                              "CLOCK_START",
                                              "CLOCK_ANCHOR_MS",
                                              "DEFAULT_REGION",
                                              "ALLOWED_ORIGINS",
                                              "ALLOWED_HOSTS",
                                              "VERIFY_WEBHOOKS",
                                              "TRUST_PROXY",
                                              "MAX_BODY_BYTES",
                                              "MAX_API_BODY_BYTES",
                                              "MAX_HEADER_BYTES",
                                              "MAX_CONNECTIONS",
                                              "HEADER_TIMEOUT_MS",
                                              "RATE_LIMIT_PER_MIN",
                                              "RATE_LIMIT_BURST",
                                              "SIM_TIME_SCALE",
                                              "FLOW_FILE",
                                              "STATIC_DIR",
                                              "WS_PING_MS",
                                              "WS_MAX_QUEUE",
                                              "WS_MAX_QUEUE_BYTES",
                                              "LIVE_IO_THREADS",
                                              "SOCKETIO_MAX_SESSIONS",
                                              "SOCKETIO_PING_INTERVAL_MS",
                                              "SOCKETIO_PING_TIMEOUT_MS",
                                              "CALL_IDLE_AFTER_END_MS",
                                              "LOG_MAP_BYTES"};
  return names;
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
  // PUBLIC_URL wins over NGROK_URL wherever each one was set: it is the name this program documents.
  std::string public_name = lookup("PUBLIC_URL").empty() ? "NGROK_URL" : "PUBLIC_URL";
  if (auto v = lookup(public_name); !v.empty()) {
    if (!is_http_url(v))
      return invalid_argument(shown(public_name, v) + " must start with http:// or https://");
    c.public_url = strip_trailing_slashes(v);
  }
  if (auto v = lookup("DATA_DIR"); !v.empty()) c.data_dir = v;
  if (auto v = lookup("LOG_URL"); !v.empty()) {
    // Its errors name the scheme at most: the URL may hold a password.
    if (auto backend = log_url::backend_of(v); !backend) return backend.status();
    c.log_url = v;
  }
  auto tokens = collect_tokens(lookup);
  if (!tokens) return tokens.status();
  c.tokens = std::move(*tokens);
  if (auto v = lookup("BIND_ADDRESS"); !v.empty()) {
    c.bind_address = v;
  } else {
    c.bind_address = c.tokens_required() ? "0.0.0.0" : "127.0.0.1";
  }
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
  if (Status s = read_twilio_accounts(lookup, c); !s) return s;
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
  c.allowed_hosts = {"localhost", "127.0.0.1", "[::1]"};
  if (!c.public_url.empty()) c.allowed_hosts.push_back(host_of_url(c.public_url));
  if (!is_loopback_address(c.bind_address) && c.bind_address != "0.0.0.0" && c.bind_address != "::")
    c.allowed_hosts.push_back(c.bind_address);
  if (auto v = lookup("ALLOWED_HOSTS"); !v.empty()) {
    for (auto host : split_commas(v)) {
      for (auto& ch : host) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c.allowed_hosts.push_back(host);
    }
  }
  if (auto v = lookup("VERIFY_WEBHOOKS"); !v.empty()) {
    if (auto st = parse_switch("VERIFY_WEBHOOKS", v, c.verify_webhooks); !st) return st;
  }
  if (auto v = lookup("TRUST_PROXY"); !v.empty()) {
    if (auto st = parse_switch("TRUST_PROXY", v, c.trust_proxy); !st) return st;
  }
  if (auto v = lookup("MAX_BODY_BYTES"); !v.empty()) {
    if (auto st = parse_size("MAX_BODY_BYTES", v, 1, 1L << 30, c.max_body_bytes); !st) return st;
  }
  if (auto v = lookup("MAX_API_BODY_BYTES"); !v.empty()) {
    if (auto st = parse_size("MAX_API_BODY_BYTES", v, 1, 1L << 30, c.max_api_body_bytes); !st) return st;
  }
  if (auto v = lookup("MAX_HEADER_BYTES"); !v.empty()) {
    if (auto st = parse_size("MAX_HEADER_BYTES", v, 1024, 1L << 20, c.max_header_bytes); !st) return st;
  }
  if (auto v = lookup("MAX_CONNECTIONS"); !v.empty()) {
    if (auto st = parse_size("MAX_CONNECTIONS", v, 1, 1L << 20, c.max_connections); !st) return st;
  }
  if (auto v = lookup("HEADER_TIMEOUT_MS"); !v.empty()) {
    if (auto st = parse_long("HEADER_TIMEOUT_MS", v, 10, 600000, c.header_timeout_ms); !st) return st;
  }
  if (auto v = lookup("RATE_LIMIT_PER_MIN"); !v.empty()) {
    if (auto st = parse_positive_double("RATE_LIMIT_PER_MIN", v, c.rate_limit_per_min); !st) return st;
  }
  if (auto v = lookup("RATE_LIMIT_BURST"); !v.empty()) {
    if (auto st = parse_positive_double("RATE_LIMIT_BURST", v, c.rate_limit_burst); !st) return st;
    if (c.rate_limit_burst < 1) return invalid_argument(shown("RATE_LIMIT_BURST", v) + " must be at least 1");
  }
  if (auto v = lookup("SIM_TIME_SCALE"); !v.empty()) {
    if (auto st = parse_positive_double("SIM_TIME_SCALE", v, c.sim_time_scale); !st) return st;
  }
  c.flow_file = lookup("FLOW_FILE");
  c.static_dir = strip_trailing_slashes(lookup("STATIC_DIR"));
  struct Milliseconds {
    const char* name;
    long min;
    long& out;
  };
  for (auto [name, min, out] : {Milliseconds{"WS_PING_MS", 10, c.ws_ping_ms},
                                Milliseconds{"SOCKETIO_PING_INTERVAL_MS", 10, c.socketio_ping_interval_ms},
                                Milliseconds{"SOCKETIO_PING_TIMEOUT_MS", 10, c.socketio_ping_timeout_ms},
                                Milliseconds{"CALL_IDLE_AFTER_END_MS", 1, c.call_idle_after_end_ms}}) {
    if (auto v = lookup(name); !v.empty()) {
      if (auto st = parse_long(name, v, min, 9999999, out); !st) return st;
    }
  }
  if (auto v = lookup("LOG_MAP_BYTES"); !v.empty()) {
    if (auto st = parse_size("LOG_MAP_BYTES", v, 1L << 20, std::numeric_limits<long>::max(), c.log_map_bytes);
        !st)
      return st;
  }
  if (auto v = lookup("WS_MAX_QUEUE"); !v.empty()) {
    if (auto st = parse_size("WS_MAX_QUEUE", v, 1, 1L << 24, c.ws_max_queue); !st) return st;
  }
  if (auto v = lookup("WS_MAX_QUEUE_BYTES"); !v.empty()) {
    if (auto st = parse_size("WS_MAX_QUEUE_BYTES", v, 1024, 1L << 30, c.ws_max_queue_bytes); !st) return st;
  }
  if (auto v = lookup("LIVE_IO_THREADS"); !v.empty()) {
    if (auto st = parse_size("LIVE_IO_THREADS", v, 1, 16, c.live_io_threads); !st) return st;
  }
  if (auto v = lookup("SOCKETIO_MAX_SESSIONS"); !v.empty()) {
    if (auto st = parse_size("SOCKETIO_MAX_SESSIONS", v, 1, 1L << 20, c.socketio_max_sessions); !st)
      return st;
  }
  if (auto v = lookup("MAX_CAMPAIGN_CONTACTS"); !v.empty()) {
    if (auto st = parse_size("MAX_CAMPAIGN_CONTACTS", v, 1, 10000000, c.max_campaign_contacts); !st)
      return st;
  }
  if (auto v = lookup("MAX_IMPORT_BYTES"); !v.empty()) {
    if (auto st = parse_size("MAX_IMPORT_BYTES", v, 1024, 1L << 30, c.max_import_bytes); !st) return st;
  }
  if (auto v = lookup("DIAL_WORKERS"); !v.empty()) {
    if (auto st = parse_long("DIAL_WORKERS", v, 1, 64, c.dial_workers); !st) return st;
  }
  if (auto v = lookup("CAMPAIGN_CHECK_MS"); !v.empty()) {
    if (auto st = parse_long("CAMPAIGN_CHECK_MS", v, 10, 9999999, c.campaign_check_ms); !st) return st;
  }
  if (auto v = lookup("CLOCK_SCALE"); !v.empty()) {
    if (auto st = parse_positive_double("CLOCK_SCALE", v, c.clock_scale); !st) return st;
  }
  if (auto v = lookup("CLOCK_START"); !v.empty()) {
    auto t = parse_iso8601(v);
    if (!t)
      return invalid_argument(shown("CLOCK_START", v) +
                              " must be an ISO-8601 time like 2026-12-07T08:00:00Z");
    c.clock_start_ms = static_cast<long long>(*t) * 1000;
  }
  if (auto v = lookup("CLOCK_ANCHOR_MS"); !v.empty()) {
    long anchor = 0;
    if (auto st = parse_long("CLOCK_ANCHOR_MS", v, 1, std::numeric_limits<long>::max(), anchor); !st)
      return st;
    c.clock_anchor_ms = anchor;
  }
  return c;
}

Result<Config> load_config(const std::string& env_file) {
  std::map<std::string, std::string> environment;
  for (const auto& name : config_variable_names()) {
    if (const char* value = std::getenv(name.c_str())) environment[name] = value;
  }
  // The named accounts' variables (TWILIO_<NAME>_ACCOUNT_SID, ...), whose names only TWILIO_ACCOUNTS says.
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string text = *entry;
    auto eq = text.find('=');
    if (eq != std::string::npos && is_account_variable(text.substr(0, eq)))
      environment[text.substr(0, eq)] = text.substr(eq + 1);
  }
  return config_from(environment, env_file);
}

std::string describe(const Config& c) {
  std::ostringstream out;
  out << "port=" << c.port << " bind=" << c.bind_address
      << " public_url=" << (c.public_url.empty() ? "(unset)" : c.public_url) << " data_dir=" << c.data_dir
      << " log=" << (c.log_url.empty() ? "lmdb" : log_url::redact(c.log_url)) << " tokens=";
  if (c.tokens.empty()) out << "(none)";
  for (std::size_t i = 0; i < c.tokens.size(); ++i)
    out << (i ? "," : "") << c.tokens[i].name << ':' << to_string(c.tokens[i].role);
  out << " webhooks=" << (c.verify_webhooks ? "verified" : "UNVERIFIED")
      << " twilio=" << (c.simulate() ? "simulator" : "live")
      << " account=" << abbreviated_sid(c.twilio_account_sid) << " auth_token=" << masked(c.twilio_auth_token)
      << " from=" << (c.twilio_phone_number.empty() ? "(unset)" : c.twilio_phone_number)
      << " flow=" << (c.twilio_flow_sid.empty() ? "(unset)" : c.twilio_flow_sid) << describe_accounts(c)
      << " api_base=" << c.twilio_api_base << " cps=" << c.twilio_cps << " region=" << c.default_region
      << " origins=";
  for (std::size_t i = 0; i < c.allowed_origins.size(); ++i) out << (i ? "," : "") << c.allowed_origins[i];
  out << " hosts=";
  for (std::size_t i = 0; i < c.allowed_hosts.size(); ++i) out << (i ? "," : "") << c.allowed_hosts[i];
  out << " trust_proxy=" << (c.trust_proxy ? "on" : "off") << " max_body_bytes=" << c.max_body_bytes
      << " max_api_body_bytes=" << c.max_api_body_bytes << " max_header_bytes=" << c.max_header_bytes
      << " max_connections=" << c.max_connections << " header_timeout_ms=" << c.header_timeout_ms
      << " rate_limit=" << c.rate_limit_per_min << "/min burst " << c.rate_limit_burst
      << " sim_time_scale=" << c.sim_time_scale;
  return out.str();
}

}  // namespace voxlog
