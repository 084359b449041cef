#include "actors/dialer.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "actors/twilio/phone.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A call placed by this server counts as in flight until it is over; one that has been silent this long
// is assumed lost (Studio would still refuse a second active execution for the contact).
constexpr std::int64_t kInFlightSilenceMs = 15 * 60 * 1000;

struct Batch {
  std::size_t total = 0;
  std::size_t pending = 0;  // calls not yet placed or failed
  std::size_t queued = 0;   // of those, still waiting in the queue
  bool paused = false;
  std::string by;  // who started it: its calls' CallRequested say so too
  json results = json::array();
  json errors = json::array();
};

struct DialerState {
  std::unique_ptr<StudioClient> client;
  struct Placed {
    std::string execution_sid;
    std::int64_t at_ms = 0;
  };
  std::unordered_map<std::string, Placed> in_flight;  // E.164 -> the last call this server placed to it
  std::unordered_map<std::string, Batch> batches;
  // Batch calls not placed yet, in order. One job message at a time is in the mailbox, so a single call
  // requested meanwhile waits for one batch call at most, not for the whole batch.
  std::deque<std::pair<std::string, std::string>> queued;  // (to, batch id)
  bool job_scheduled = false;
  Clock::time_point next_slot = Clock::now();
  std::mt19937_64 rng{std::random_device{}()};
  std::string public_url;  // handed to the flow as Parameters.public_url
  static inline const char* name = "voxlog.dialer";
};

using Dialer = caf::stateful_actor<DialerState>;

std::string new_id(Dialer* self, const char* prefix) {
  static const char* hex = "0123456789abcdef";
  std::string id = prefix;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  for (int shift = 44; shift >= 0; shift -= 4) id += hex[(now >> shift) & 0xf];  // time-ordered
  for (int i = 0; i < 12; ++i) id += hex[self->state.rng() & 0xf];
  return id;
}

Status append(EventStore& store, const std::string& stream, const char* type, json data) {
  AppendRequest request{stream, {NewEvent{type, std::move(data)}}, std::nullopt, {}, source::api, 0};
  auto r = store.append_sync(std::move(request));
  return r ? Status::ok() : r.status();
}

bool still_in_flight(Dialer* self, const DialerSettings& s, const std::string& to) {
  auto it = self->state.in_flight.find(to);
  if (it == self->state.in_flight.end()) return false;
  // The view may not show a call placed a moment ago yet: until it does, the call counts as in flight.
  auto row = s.view->find(it->second.execution_sid);
  std::int64_t last_sign_of_life = row ? row->updated_ms : it->second.at_ms;
  if ((!row || !is_terminal_status(row->status)) && now_ms() - last_sign_of_life < kInFlightSilenceMs)
    return true;
  self->state.in_flight.erase(it);
  return false;
}

// Waits for the next free slot of TWILIO_CPS (blocking is fine: this actor has its own thread).
void pace(Dialer* self, const DialerSettings& s) {
  auto now = Clock::now();
  if (self->state.next_slot > now) std::this_thread::sleep_until(self->state.next_slot);
  auto interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / s.calls_per_second));
  self->state.next_slot = std::max(now, self->state.next_slot) + interval;
}

DialOutcome reject(const DialerSettings& s, const std::string& request_id, const std::string& to,
                   const std::string& batch_id, Status status, int http_status, int twilio_code) {
  json data = {{"request_id", request_id},
               {"to", to},
               {"code", twilio_code},
               {"http_status", http_status},
               {"message", status.message()}};
  if (!batch_id.empty()) data["batch_id"] = batch_id;
  if (Status w = append(*s.store, stream_prefix::dial + request_id, event_type::execution_rejected, data); !w)
    status = w;
  return {to, {}, std::move(status), http_status, twilio_code};
}

// Places one call to an already normalised number and records what happened.
DialOutcome place_call(Dialer* self, const DialerSettings& s, const std::string& to,
                       const std::string& batch_id, const std::string& by) {
  std::string request_id = new_id(self, "RQ");
  json requested = {{"request_id", request_id}, {"to", to}, {"from", s.from}, {"by", by}};
  if (!batch_id.empty()) requested["batch_id"] = batch_id;
  if (Status w = append(*s.store, stream_prefix::dial + request_id, event_type::call_requested, requested);
      !w)
    return {to, {}, w};
  if (still_in_flight(self, s, to))
    return reject(s, request_id, to, batch_id,
                  conflict("a call to " + to + " is already in flight (" +
                           self->state.in_flight[to].execution_sid + ")"),
                  409, 0);
  pace(self, s);
  auto execution = self->state.client->create_execution(to, s.from, {{"public_url", self->state.public_url}});
  if (!execution) {
    const ApiError& e = execution.error();
    return reject(s, request_id, to, batch_id, e.status, e.http_status, e.twilio_code);
  }
  json created = {{"request_id", request_id},
                  {"execution_sid", execution->sid},
                  {"to", to},
                  {"from", s.from},
                  {"adopted", execution->adopted}};
  if (!batch_id.empty()) created["batch_id"] = batch_id;
  // No expected version: the flow may already have reported steps of this call.
  if (Status w =
          append(*s.store, stream_prefix::call + execution->sid, event_type::execution_created, created);
      !w)
    return {to, execution->sid, w};
  self->state.in_flight[to] = {execution->sid, now_ms()};
  return {to, execution->sid, Status::ok()};
}

void finish_batch_if_done(const DialerSettings& s, Dialer* self, const std::string& batch_id) {
  Batch& b = self->state.batches[batch_id];
  if (b.pending > 0) return;
  json data = {{"batch_id", batch_id},      {"total", b.total},     {"success", b.results.size()},
               {"failed", b.errors.size()}, {"results", b.results}, {"errors", b.errors}};
  append(*s.store, stream_prefix::batch + batch_id, event_type::campaign_completed, std::move(data));
  self->state.batches.erase(batch_id);
}

// Sends the job message unless one is on its way or every queued call belongs to a paused batch.
void schedule_job(Dialer* self) {
  auto& st = self->state;
  if (st.job_scheduled) return;
  for (const auto& [id, batch] : st.batches) {
    if (batch.queued > 0 && !batch.paused) {
      st.job_scheduled = true;
      self->send(self, job_atom::value);
      return;
    }
  }
}

// The next queued call of a batch that is not paused, taken off the queue; none if there is none.
std::optional<std::pair<std::string, std::string>> next_job(Dialer* self) {
  auto& st = self->state;
  auto runnable = [&](const auto& job) {
    auto batch = st.batches.find(job.second);
    return batch != st.batches.end() && !batch->second.paused;
  };
  auto it = std::find_if(st.queued.begin(), st.queued.end(), runnable);
  if (it == st.queued.end()) return std::nullopt;
  auto job = std::move(*it);
  st.queued.erase(it);
  --st.batches.at(job.second).queued;
  return job;
}

// Pauses or resumes a running batch: records CampaignPaused/CampaignResumed, unless it already is so.
Result<CampaignState> set_paused(Dialer* self, const DialerSettings& s, const std::string& batch_id,
                                 bool paused, const std::string& by) {
  auto it = self->state.batches.find(batch_id);
  if (it == self->state.batches.end())
    return not_found("no running batch '" + batch_id.substr(0, 100) +
                     "': it never existed, has finished, or ran before the server restarted");
  Batch& b = it->second;
  CampaignState state{batch_id, paused, b.queued, false};
  if (b.paused == paused) return state;
  json data = {{"batch_id", batch_id}, {"remaining", b.queued}, {"by", by}};
  const char* type = paused ? event_type::campaign_paused : event_type::campaign_resumed;
  if (Status w = append(*s.store, stream_prefix::batch + batch_id, type, std::move(data)); !w) return w;
  b.paused = paused;
  state.changed = true;
  if (!paused) schedule_job(self);
  return state;
}

void record(Batch& b, const DialOutcome& o) {
  if (o.status) {
    b.results.push_back({{"to", o.to}, {"execution_sid", o.execution_sid}});
  } else {
    b.errors.push_back({{"to", o.to}, {"code", o.twilio_code}, {"message", o.status.message()}});
  }
}

caf::behavior dialing(Dialer* self, DialerSettings s) {
  return {
      [=](dial_atom, const std::string& number, const std::string& by, const DialReply& reply) {
        auto to = normalize_e164(number, s.default_region);
        if (!to) {
          reply({number, {}, to.status()});
          return;
        }
        reply(place_call(self, s, *to, {}, by));
      },
      [=](batch_atom, const std::vector<std::string>& numbers, const std::string& by,
          const BatchReply& reply) {
        if (numbers.empty() || numbers.size() > s.max_batch) {
          reply(invalid_argument("phoneNumbers must hold 1 to " + std::to_string(s.max_batch) + " numbers"));
          return;
        }
        std::string batch_id = new_id(self, "BT");
        Batch batch;
        batch.total = numbers.size();
        batch.by = by;
        std::vector<std::string> valid;
        std::set<std::string> seen;
        for (const std::string& number : numbers) {
          auto to = normalize_e164(number, s.default_region);
          if (!to) {
            batch.errors.push_back({{"to", number}, {"code", 0}, {"message", to.status().message()}});
          } else if (!seen.insert(*to).second) {
            batch.errors.push_back(
                {{"to", *to}, {"code", 0}, {"message", "duplicate of an earlier number in this batch"}});
          } else {
            valid.push_back(*to);
          }
        }
        batch.pending = valid.size();
        batch.queued = valid.size();
        json created = {{"batch_id", batch_id},     {"total", numbers.size()}, {"numbers", valid},
                        {"rejected", batch.errors}, {"source", "start-bulk"},  {"by", by}};
        if (Status w =
                append(*s.store, stream_prefix::batch + batch_id, event_type::campaign_created, created);
            !w) {
          reply(w);
          return;
        }
        self->state.batches.emplace(batch_id, std::move(batch));
        reply(BatchAccepted{batch_id, numbers.size(), valid.size()});
        for (const std::string& to : valid) self->state.queued.emplace_back(to, batch_id);
        schedule_job(self);
        finish_batch_if_done(s, self, batch_id);
      },
      [=](job_atom) {
        self->state.job_scheduled = false;
        auto job = next_job(self);
        if (!job) return;  // the rest is paused
        auto& [to, batch_id] = *job;
        Batch& b = self->state.batches[batch_id];
        DialOutcome outcome = place_call(self, s, to, batch_id, b.by);
        record(b, outcome);
        --b.pending;
        finish_batch_if_done(s, self, batch_id);
        // Scheduled after the call, so single calls requested while it was placed go first.
        schedule_job(self);
      },
      [=](pause_atom, const std::string& batch_id, const std::string& by, const CampaignReply& reply) {
        reply(set_paused(self, s, batch_id, true, by));
      },
      [=](resume_atom, const std::string& batch_id, const std::string& by, const CampaignReply& reply) {
        reply(set_paused(self, s, batch_id, false, by));
      },
  };
}

caf::behavior dialer(Dialer* self, DialerSettings s) {
  self->state.client = std::make_unique<StudioClient>(s.client);
  self->set_default_handler(caf::skip);  // requests wait until the public URL is known
  return {
      [=](public_url_atom, const std::string& url) {
        self->state.public_url = url;
        self->become(dialing(self, s));
      },
  };
}

}  // namespace

caf::actor spawn_dialer(caf::actor_system& system, DialerSettings settings) {
  return system.spawn<caf::detached>(dialer, std::move(settings));
}

}  // namespace voxlog
