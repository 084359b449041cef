// The simulator's model of Twilio Studio: flows, executions, limits, faults, and the admin routes.
//
// Contract: `handle` answers one already-parsed HTTP request to the Studio REST API v2 (Basic auth,
// Twilio's classic error shape {code, message, more_info, status}) or to the simulator's admin routes
// (/__sim/script, /__sim/faults, /__sim/stats, /__sim/executions: loopback tools, no auth). It never blocks:
// executions are walked on the service's own worker threads (a TimedQueue), which also send the webhooks. The
// reply may ask the transport to delay the answer or to drop the connection; the transport (simulator.cpp)
// does that. Secrets: the auth token is compared in constant time and appears in no reply.
// Thread-safety: `handle` may be called from any number of threads at once.
#pragma once

#include "http/twilio_signature.hpp"
#include "tools/simulator/execution.hpp"
#include "tools/simulator/flow_walker.hpp"
#include "tools/simulator/simulator_options.hpp"
#include "tools/simulator/timed_queue.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

namespace voxlog::sim {

struct ApiRequest {
  std::string method;  // GET, POST, DELETE
  std::string path;    // without the query
  twilio::FormParams query;
  twilio::FormParams form;  // decoded application/x-www-form-urlencoded body
  std::string body;         // the raw body (JSON for the admin routes)
  std::optional<std::pair<std::string, std::string>> basic_auth;  // user, password
};

struct ApiReply {
  int status = 200;
  nlohmann::json body;
  bool drop_connection = false;  // close the connection instead of answering (the work is done)
  std::chrono::milliseconds delay{0};
};

class StudioService {
 public:
  explicit StudioService(SimulatorOptions options);
  ~StudioService();
  StudioService(const StudioService&) = delete;
  StudioService& operator=(const StudioService&) = delete;

  // Used in the `url` fields of replies; set once the transport knows its port.
  void set_base_url(std::string base_url);
  const std::string& default_flow_sid() const { return default_flow_sid_; }
  // The flow an account was given at the start (SimulatorOptions::more_accounts); "" for an unknown one.
  std::string flow_sid_for(const std::string& account_sid) const;

  ApiReply handle(const ApiRequest& request);

 private:
  struct Flow {
    std::string sid, account_sid, friendly_name, status, commit_message, date_created, date_updated;
    std::shared_ptr<const nlohmann::json> definition;  // shared with the executions of this revision
    int revision = 1;
  };
  struct FaultBudget {  // "the next N create requests fail this way"
    int create_5xx = 0, create_drop = 0, create_429 = 0, slow_requests = 0;
    int slow_ms = 0;
  };
  struct Stats {
    uint64_t create_requests = 0, executions_created = 0, rejected_401 = 0, rejected_400 = 0,
             rejected_404 = 0, rejected_409 = 0, rejected_429 = 0, fault_5xx = 0, fault_drop = 0,
             fault_429 = 0, fault_slow = 0, webhooks_sent = 0;
    std::map<std::string, uint64_t> webhook_results;  // HTTP status (or "error") -> count
    std::string last_webhook_error;
  };

  // `account_sid`: the authenticated account; it sees its own flows only.
  ApiReply handle_studio(const ApiRequest& request, const std::vector<std::string>& parts,
                         const std::string& account_sid);
  ApiReply handle_admin(const ApiRequest& request, const std::string& route);
  ApiReply create_execution(const std::string& flow_sid, const ApiRequest& request);
  ApiReply list_executions(const std::string& flow_sid, const ApiRequest& request);
  ApiReply update_execution(const std::shared_ptr<Execution>& execution, const ApiRequest& request);
  ApiReply delete_execution(const std::string& sid);
  ApiReply save_flow(const std::string& flow_sid, const ApiRequest& request, bool validate_only,
                     const std::string& account_sid);
  ApiReply admin_executions(const ApiRequest& request);

  nlohmann::json execution_json(const Execution& execution) const;
  nlohmann::json flow_json(const Flow& flow) const;
  nlohmann::json stats_json();
  std::shared_ptr<Execution> find_execution(const std::string& flow_sid, const std::string& sid);
  CallScript draw_script();
  std::string random_sid(const char* prefix);
  void schedule_step(std::shared_ptr<Execution> execution, std::chrono::milliseconds delay);
  void finish(const std::shared_ptr<Execution>& execution);
  WebhookResult send_and_count(const WebhookRequest& request);

  const SimulatorOptions options_;
  std::atomic<bool> stopping_{false};  // aborts webhooks in flight
  std::string base_url_;
  std::string default_flow_sid_;
  std::map<std::string, std::string> tokens_;       // account SID -> auth token (fixed at construction)
  std::map<std::string, std::string> first_flows_;  // account SID -> the flow it was given at the start
  WalkerEnvironment walker_;

  std::mutex mutex_;  // guards everything below
  std::mt19937_64 rng_;
  std::map<std::string, Flow> flows_;
  std::map<std::string, std::shared_ptr<Execution>> executions_;  // the Studio API's: DELETE removes
  // Every execution created, oldest first, deleted ones included (GET /__sim/executions); the oldest
  // ended ones are forgotten beyond kMaxKeptExecutions (studio_service.cpp).
  std::deque<std::shared_ptr<Execution>> history_;
  std::map<std::string, std::string> active_by_contact_;   // To -> execution SID
  std::map<std::string, std::deque<CallScript>> scripts_;  // To -> outcomes of its next executions
  std::deque<std::chrono::steady_clock::time_point> recent_creates_;
  FaultBudget fault_budget_;
  Stats stats_;

  TimedQueue queue_;  // last: its workers stop before the state they use is destroyed
};

// Twilio's classic error body, e.g. {"code":20404,"message":"...","more_info":"...","status":404}.
ApiReply twilio_error(int http_status, int code, const std::string& message);

}  // namespace voxlog::sim
