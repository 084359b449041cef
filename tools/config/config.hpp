// Config: the settings of voxlogd and the voxlog CLI, read from the environment and a `.env` file.
//
// Contract: load_config() is the one way to obtain a Config. It reads the process environment and, for
// names the environment does not set, the env file (KEY=VALUE lines, '#' comments, optional single or
// double quotes, optional `export ` prefix). A variable set in the environment wins even when empty; an
// empty value means "use the default". A missing env file is not an error. Every value is validated; the
// first invalid one yields invalid_argument naming the variable. The value is quoted in the message only
// for non-secret variables: TWILIO_AUTH_TOKEN and API_TOKEN never appear in errors, nor in describe().
// Unknown names in the env file are ignored (the file may be shared with other tools).
//
// Thread-safety: load_config() reads the process environment (getenv): call it at start-up, before
// threads that may call setenv. Config is a plain value; describe() is pure.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "eventstore/status.hpp"

namespace voxlog {

struct Config {
  int port = 3001;                       // PORT; 0 = pick a free port
  std::string bind_address = "0.0.0.0";  // BIND_ADDRESS
  std::string public_url;                // PUBLIC_URL, else NGROK_URL (the Node app's name); no trailing '/'
  std::string data_dir = "./data";       // DATA_DIR
  std::string api_token;                 // API_TOKEN: when set, /api/* (not webhooks) needs a Bearer token
  std::string twilio_account_sid;        // TWILIO_ACCOUNT_SID
  std::string twilio_auth_token;         // TWILIO_AUTH_TOKEN (secret)
  std::string twilio_phone_number;       // TWILIO_PHONE_NUMBER: the From of every call
  std::string twilio_flow_sid;           // TWILIO_FLOW_SID
  std::string twilio_api_base = "https://studio.twilio.com";  // TWILIO_API_BASE; no trailing '/'
  double twilio_cps = 1.0;            // TWILIO_CPS: execution creates per second (> 0)
  std::string default_region = "GB";  // DEFAULT_REGION: ISO 3166 region for numbers without +country
  std::vector<std::string>
      allowed_origins;                     // ALLOWED_ORIGINS comma list; default localhost:3000 + public_url
  std::size_t max_body_bytes = 64 * 1024;  // MAX_BODY_BYTES (> 0)
  double sim_time_scale = 1.0;             // SIM_TIME_SCALE: embedded simulator speed (> 0)

  // True when Twilio credentials are incomplete: the server then runs against its built-in simulator.
  bool simulate() const;
};

// The environment variables load_config() reads, in the order describe() and error messages use.
const std::vector<std::string>& config_variable_names();

// Reads the process environment, then `env_file` for names the environment does not set.
Result<Config> load_config(const std::string& env_file = ".env");

// The same from an explicit environment map (what load_config() does after collecting getenv()).
// Lets tests and tools build a Config without touching the process environment.
Result<Config> config_from(const std::map<std::string, std::string>& environment,
                           const std::string& env_file);

// Parses a .env file into KEY -> VALUE. A missing file gives an empty map. A malformed line gives
// invalid_argument with the file name and line number, never the line's text (it may hold a secret).
Result<std::map<std::string, std::string>> read_env_file(const std::string& path);

// A one-line summary safe to log: secrets are "***" with at most a length hint.
std::string describe(const Config& c);

}  // namespace voxlog
