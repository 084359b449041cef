// Config: the settings of voxlogd and the voxlog CLI, read from the environment and a `.env` file.
//
// Contract: load_config() is the one way to obtain a Config, and Config the one way any part of voxlogd
// learns a setting: nothing else reads the environment. It reads the process environment and, for
// names the environment does not set, the env file (KEY=VALUE lines, '#' comments, optional single or
// double quotes, optional `export ` prefix). A variable set in the environment wins even when empty; an
// empty value means "use the default". A missing env file is not an error. Every value is validated; the
// first invalid one yields invalid_argument naming the variable. The value is quoted in the message only
// for non-secret variables: no token or secret (TWILIO_AUTH_TOKEN, API_TOKEN, API_TOKENS, METRICS_TOKEN,
// the lines of API_TOKENS_FILE, any TWILIO_<NAME>_AUTH_TOKEN, LOG_URL's password) ever appears in errors or
// in describe(), not even its length. Twilio accounts: see TwilioAccount below. Unknown names in the env file
// are ignored (the file may be shared with other tools).
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

// What a token lets its holder do; each role may do everything the ones before it may.
//   metrics:  GET /metrics and the detailed /healthz (METRICS_TOKEN, for a scraper)
//   viewer:   read calls, events and the log; subscribe on /ws and Socket.IO
//   operator: place calls, start, pause and resume campaigns
//   admin:    do-not-call, export, replay
enum class Role { metrics = 0, viewer = 1, operator_ = 2, admin = 3 };
const char* to_string(Role role);

// A named credential: its name is what the audit trail records as `by` on the events it causes.
struct AccessToken {
  std::string name;
  Role role = Role::viewer;
  std::string secret;
};

// One Twilio account that calls go out through. The default one is today's single-account setup
// (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER, TWILIO_FLOW_SID, and TWILIO_REGION), named
// "default". More are named in TWILIO_ACCOUNTS ("name" or "name:region", comma-separated, e.g.
// "poland,uk:uk"), each with TWILIO_<NAME>_ACCOUNT_SID, _AUTH_TOKEN, _PHONE_NUMBER, _FLOW_SID (NAME in
// upper case). A name is 1 to 32 of a-z, 0-9, '_'; a region (what clients send as `region`) the same,
// defaulting to the name; names and regions are distinct. Either every account has its SID and auth
// token (real Twilio) or none has a SID (the built-in simulator plays them all, each with its own token:
// the configured one, else a random one).
struct TwilioAccount {
  std::string name;
  std::string region;  // may be empty for the default account (TWILIO_REGION unset)
  std::string account_sid;
  std::string auth_token;    // secret
  std::string phone_number;  // the caller ID (From) of its calls
  std::string flow_sid;
};

struct Config {
  int port = 3001;                  // PORT; 0 = pick a free port
  std::string bind_address;         // BIND_ADDRESS; default 127.0.0.1 without tokens, 0.0.0.0 with them
  std::string public_url;           // PUBLIC_URL, else NGROK_URL (the Node app's name); no trailing '/'
  std::string data_dir = "./data";  // DATA_DIR
  // LOG_URL: empty, the LMDB log in DATA_DIR/log; postgresql://... (libpq URI, several hosts allowed),
  // the PostgreSQL log (eventstore/SQL.md). Any other scheme is an error. Secret (it may hold a
  // password): describe() and errors show it redacted (eventstore/log_url.hpp).
  std::string log_url;
  // API_TOKEN (one admin token named "api"), API_TOKENS ("name:role:secret" comma list), API_TOKENS_FILE
  // (one "name:role:secret" a line, '#' comments), METRICS_TOKEN (role metrics, named "metrics"). With
  // none, nobody needs a token: voxlogd then serves loopback only (check_exposure).
  std::vector<AccessToken> tokens;
  std::string twilio_account_sid;                             // TWILIO_ACCOUNT_SID
  std::string twilio_auth_token;                              // TWILIO_AUTH_TOKEN (secret)
  std::string twilio_phone_number;                            // TWILIO_PHONE_NUMBER: the From of every call
  std::string twilio_flow_sid;                                // TWILIO_FLOW_SID
  std::string twilio_api_base = "https://studio.twilio.com";  // TWILIO_API_BASE; no trailing '/'
  // Every account, the default first: the unnamed one above when TWILIO_ACCOUNTS is unset or any of its
  // variables is set, else the first named one. Never empty.
  std::vector<TwilioAccount> twilio_accounts;
  double twilio_cps = 1.0;            // TWILIO_CPS: execution creates per second (> 0)
  std::string default_region = "GB";  // DEFAULT_REGION: ISO 3166 region for numbers without +country
  std::vector<std::string>
      allowed_origins;                     // ALLOWED_ORIGINS comma list; default localhost:3000 + public_url
  std::vector<std::string> allowed_hosts;  // ALLOWED_HOSTS comma list, added to PUBLIC_URL's host and
                                           // the loopback names (host names, no ports; lower case)
  bool verify_webhooks = true;             // VERIFY_WEBHOOKS=off: accept unsigned webhooks (loopback only)
  bool trust_proxy = false;                // TRUST_PROXY=on: believe X-Forwarded-Proto/Host/For
  std::size_t max_body_bytes = 64 * 1024;  // MAX_BODY_BYTES: a webhook's body (> 0)
  std::size_t max_api_body_bytes = 1 << 20;  // MAX_API_BODY_BYTES: any other request's body
  std::size_t max_header_bytes = 16 * 1024;  // MAX_HEADER_BYTES: request line and headers together
  std::size_t max_connections = 10000;  // MAX_CONNECTIONS: open at once (dashboards included); more get 503
  long header_timeout_ms = 10000;       // HEADER_TIMEOUT_MS: to receive a whole request
  double rate_limit_per_min = 120;      // RATE_LIMIT_PER_MIN: call-placing requests per client per minute
  double rate_limit_burst = 30;         // RATE_LIMIT_BURST: how many of them may come at once
  double sim_time_scale = 1.0;          // SIM_TIME_SCALE: embedded simulator speed (> 0)
  std::string flow_file;                // FLOW_FILE: the flow the embedded simulator runs; empty: flow.json
  std::string static_dir;               // STATIC_DIR: the dashboard's files; empty: the sources' http/static
  long ws_ping_ms = 30000;              // WS_PING_MS: /ws heartbeat (10 to 9999999)
  std::size_t ws_max_queue = 1024;      // WS_MAX_QUEUE: frames a /ws client may leave unread (>= 1)
  std::size_t ws_max_queue_bytes = 1 << 20;   // WS_MAX_QUEUE_BYTES: bytes a live client may leave unread
  std::size_t live_io_threads = 1;            // LIVE_IO_THREADS: io threads of the live subscribers (1 to 16)
  std::size_t socketio_max_sessions = 10000;  // SOCKETIO_MAX_SESSIONS: Engine.IO sessions open at once
  long socketio_ping_interval_ms = 25000;     // SOCKETIO_PING_INTERVAL_MS (10 to 9999999)
  long socketio_ping_timeout_ms = 20000;      // SOCKETIO_PING_TIMEOUT_MS (10 to 9999999)
  long call_idle_after_end_ms = 5000;  // CALL_IDLE_AFTER_END_MS: a finished call's actor lingers (>= 1)
  std::size_t log_map_bytes = std::size_t{1} << 40;  // LOG_MAP_BYTES: the log's largest size (>= 1 MiB)
  std::size_t max_campaign_contacts = 200000;  // MAX_CAMPAIGN_CONTACTS: rows of one campaign (start-bulk too)
  std::size_t max_import_bytes = 32u << 20;    // MAX_IMPORT_BYTES: body of a campaign or do-not-call import
  long dial_workers = 16;                      // DIAL_WORKERS: Twilio creates under way at once (1 to 64)
  long campaign_check_ms = 60000;  // CAMPAIGN_CHECK_MS: calls in flight checked this often (and Studio asked
                                   // about one silent this long)
  // The campaign clock (actors/campaign/clock.hpp), for rehearsals and tests: CLOCK_SCALE (> 0) times
  // faster, reading CLOCK_START (ISO 8601, Z) when the wall clock reads CLOCK_ANCHOR_MS (epoch ms; default:
  // when voxlogd started).
  double clock_scale = 1.0;
  long long clock_start_ms = 0;
  long long clock_anchor_ms = 0;

  // True when Twilio credentials are incomplete: the server then runs against its built-in simulator.
  bool simulate() const;
  // The account a request picks with `account` (a name) or `region` (the Node app's word: "poland",
  // "uk"), case-insensitive; neither: the default (twilio_accounts.front()). invalid_argument naming the
  // valid names or regions when one is unknown, or when both are given and name different accounts.
  Result<const TwilioAccount*> choose_twilio_account(const std::string& account,
                                                     const std::string& region) const;
  // True when some credential is configured: requests must then carry one.
  bool tokens_required() const { return !tokens.empty(); }
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_address(const std::string& address);

// What voxlogd checks before it listens: without a token it serves loopback only, and VERIFY_WEBHOOKS=off
// is honoured on loopback only. failed_precondition says which setting to change.
Status check_exposure(const Config& c);

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
