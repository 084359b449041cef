// Walks a Studio flow definition one widget at a time for a simulated execution.
//
// Contract: `run_step` runs the widget `execution.current_state` names (the caller holds no lock; the
// function locks `execution.mutex` itself and releases it while a make-http-request widget's webhook is
// in flight), records the widget's outputs under `widgets.<name>`, follows the transition the simulated
// call produces, and says how long the caller should wait before the next step (simulated seconds
// already multiplied by `time_scale`). It never sleeps. `validate_flow_definition` lists what is wrong
// with a definition (empty when valid). Thread-safety: distinct executions may be walked on different
// threads at once; one execution must not be stepped concurrently with itself.
#pragma once

#include "tools/simulator/execution.hpp"
#include "tools/simulator/webhook_sender.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace voxlog::sim {

struct WalkerEnvironment {
  double time_scale = 1.0;
  std::function<WebhookResult(const WebhookRequest&)> send;  // posts a signed webhook
};

struct StepResult {
  bool ended = false;  // the transition had no `next`, a voice widget ran after a hangup, or a limit hit
  std::chrono::milliseconds delay{0};
};

StepResult run_step(Execution& execution, const WalkerEnvironment& environment);

std::vector<std::string> validate_flow_definition(const nlohmann::json& definition);

}  // namespace voxlog::sim
