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

CallDirectory::CallDirectory(caf::actor_system& system, CallActorSettings settings, StreamLookup lookup,
                             std::size_t recent_aliases)
    : system_(system),
      settings_(settings),
      lookup_(std::move(lookup)),
      recent_aliases_(recent_aliases),
      idle_timers_(system, idle_timer_resolution(settings)) {}

std::optional<std::string> CallDirectory::known_stream(const std::string& sid) {
  if (auto it = alias_.find(sid); it != alias_.end()) return it->second;
  if (auto it = recent_.find(sid); it != recent_.end()) return it->second;
  if (lookup_) return lookup_(sid);
  return std::nullopt;
}

// The call's stream: whichever of its SIDs we already know (a CallSid seen alone first keeps its stream
// when the execution SID turns up), else a new stream named after the execution SID, else the CallSid.
std::string CallDirectory::stream_for(const Webhook& w) {
  std::string stream;
  for (const std::string* sid : {&w.execution_sid, &w.call_sid}) {
    if (sid->empty()) continue;
    if (auto known = known_stream(*sid)) {
      stream = std::move(*known);
      break;
    }
  }
  if (stream.empty()) stream = stream_prefix::call + (w.execution_sid.empty() ? w.call_sid : w.execution_sid);
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
  Entry& entry = actors_[stream];
  if (!entry.actor) entry.actor = spawn_call_actor(system_, stream, settings_, this);
  for (const std::string* sid : {&webhook.execution_sid, &webhook.call_sid}) {
    if (!sid->empty() && alias_.emplace(*sid, stream).second) entry.sids.push_back(*sid);
  }
  // Sent under the lock: a retire() that follows cannot put its stop ahead of this webhook.
  caf::anon_send(entry.actor, webhook_atom::value, std::move(webhook), std::move(reply));
}

// The SIDs of a call that has no actor any more move to the recent ones: the view has them as soon as
// it commits, and until then (or if it cannot) the call's next webhook still finds its stream.
void CallDirectory::release_aliases(Entry& entry) {
  for (std::string& sid : entry.sids) {
    auto it = alias_.find(sid);
    if (it == alias_.end()) continue;
    recent_[sid] = std::move(it->second);
    alias_.erase(it);
    recent_order_.push_back(std::move(sid));
  }
  while (recent_order_.size() > recent_aliases_) {
    recent_.erase(
        recent_order_.front());  // a SID retired twice is dropped at its first turn: the view has it
    recent_order_.pop_front();
  }
}

bool CallDirectory::retire(const std::string& stream, const call_actor& self) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = actors_.find(stream);
  if (it == actors_.end() || it->second.actor != self) return false;
  release_aliases(it->second);
  actors_.erase(it);
  caf::anon_send(self, stop_atom::value);  // behind everything routed to it so far
  return true;
}

void CallDirectory::forget(const std::string& stream, const caf::actor_addr& self) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = actors_.find(stream);
  if (it == actors_.end() || it->second.actor.address() != self) return;
  release_aliases(it->second);
  actors_.erase(it);
}

void CallDirectory::wake_at(caf::actor_clock::time_point at, const caf::actor_addr& self,
                            std::uint64_t generation) {
  idle_timers_.wake(at, self, generation);
}

std::size_t CallDirectory::actors_alive() const {
  std::lock_guard<std::mutex> lock(mu_);
  return actors_.size();
}

std::size_t CallDirectory::aliases_held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return alias_.size() + recent_.size();
}

void CallDirectory::stop_all() {
  std::unordered_map<std::string, Entry> actors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    actors.swap(actors_);
  }
  idle_timers_.stop();
  for (auto& entry : actors) caf::anon_send_exit(entry.second.actor, caf::exit_reason::user_shutdown);
}

}  // namespace voxlog
