#include "actors/call_directory.hpp"

#include <algorithm>

#include "actors/call_actor.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

// A fiftieth of the shortest quiet period, within 1 ms..100 ms: a finished call retires 5-5.1 s after
// its last webhook by default. Not coarser: every sweep retires what fell due since the last one at once,
// and under load (thousands of calls ending per second) a burst of a whole second's retirements, each
// taking the directory's lock, held up the io thread's routing.
std::chrono::milliseconds idle_timer_resolution(const CallActorSettings& s) {
  auto shortest = std::min(s.idle_after_end, s.idle_while_live);
  return std::clamp(shortest / 50, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
}

}  // namespace

CallDirectory::CallDirectory(caf::actor_system& system, CallActorSettings settings,
                             std::unordered_map<std::string, std::string> known_aliases)
    : system_(system),
      settings_(settings),
      idle_timers_(system, idle_timer_resolution(settings)),
      alias_(std::move(known_aliases)) {}

// The call's stream: whichever of its SIDs we already know (a CallSid seen alone first keeps its stream
// when the execution SID turns up), else a new stream named after the execution SID, else the CallSid.
std::string CallDirectory::stream_for(const Webhook& w) {
  std::string stream;
  for (const std::string* sid : {&w.execution_sid, &w.call_sid}) {
    if (sid->empty()) continue;
    if (auto it = alias_.find(*sid); it != alias_.end()) {
      stream = it->second;
      break;
    }
  }
  if (stream.empty()) stream = stream_prefix::call + (w.execution_sid.empty() ? w.call_sid : w.execution_sid);
  if (!w.execution_sid.empty()) alias_.emplace(w.execution_sid, stream);
  if (!w.call_sid.empty()) alias_.emplace(w.call_sid, stream);
  return stream;
}

void CallDirectory::route(Webhook webhook, WebhookReply reply) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopped_) {
    lock.unlock();
    reply(unavailable("voxlogd is shutting down; Twilio will retry the webhook"));
    return;
  }
  std::string stream = stream_for(webhook);
  auto& actor = actors_[stream];
  if (!actor) actor = spawn_call_actor(system_, stream, settings_, this);
  // Sent under the lock: a retire() that follows cannot put its stop ahead of this webhook.
  caf::anon_send(actor, webhook_atom::value, std::move(webhook), std::move(reply));
}

bool CallDirectory::retire(const std::string& stream, const call_actor& self) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = actors_.find(stream);
  if (it == actors_.end() || it->second != self) return false;
  actors_.erase(it);
  caf::anon_send(self, stop_atom::value);  // behind everything routed to it so far
  return true;
}

void CallDirectory::forget(const std::string& stream, const caf::actor_addr& self) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = actors_.find(stream);
  if (it != actors_.end() && it->second.address() == self) actors_.erase(it);
}

void CallDirectory::wake_at(caf::actor_clock::time_point at, const caf::actor_addr& self,
                            std::uint64_t generation) {
  idle_timers_.wake(at, self, generation);
}

std::size_t CallDirectory::actors_alive() const {
  std::lock_guard<std::mutex> lock(mu_);
  return actors_.size();
}

void CallDirectory::stop_all() {
  std::unordered_map<std::string, call_actor> actors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    actors.swap(actors_);
  }
  idle_timers_.stop();
  for (auto& entry : actors) caf::anon_send_exit(entry.second, caf::exit_reason::user_shutdown);
}

std::unordered_map<std::string, std::string> aliases_from(const CallsView& view) {
  std::unordered_map<std::string, std::string> alias;
  view.for_each([&](const CallRow& row) {
    if (!row.execution_sid.empty()) alias.emplace(row.execution_sid, row.stream);
    if (!row.call_sid.empty()) alias.emplace(row.call_sid, row.stream);
    return true;
  });
  return alias;
}

}  // namespace voxlog
