#include "actors/dialer.hpp"

#include <chrono>
#include <deque>
#include <iostream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "actors/twilio/phone.hpp"
#include "eventstore/text.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

using done_atom = dialer_done_atom;
using pump_atom = dialer_pump_atom;
using work_atom = caf::atom_constant<caf::atom("dialwork")>;

// A call placed by this server counts as in flight until it is over; one that has been silent this long
// is assumed lost (Studio would still refuse a second active execution for the contact).
constexpr std::int64_t kInFlightSilenceMs = 15 * 60 * 1000;
// Tries at recording a placed call's ExecutionCreated: 100 ms, doubling, about 3 s in all.
constexpr int kRecordTries = 6;

// One piece of work for a worker: a create, a lookup or a fetch.
struct Job {
  enum class Kind { dial, lookup, fetch } kind = Kind::dial;
  std::size_t account = 0;  // index in DialerSettings::accounts
  DialRequest request;
  std::string to;  // E.164
  std::int64_t since_s = 0;
  std::string sid;
};

// A job waiting its turn, and the promise of its answer (delegated to the worker that takes it).
struct Queued {
  Job job;
  caf::response_promise promise;
};

}  // namespace
}  // namespace voxlog

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(voxlog::Job)

namespace voxlog {
namespace {

Status append(EventStore& store, const std::string& stream, const char* type, json data,
              std::optional<std::uint64_t> expected = std::nullopt) {
  AppendRequest request{stream, {NewEvent{type, std::move(data)}}, expected, {}, source::api, 0};
  auto r = store.append_sync(std::move(request));
  return r ? Status::ok() : r.status();
}

// ---- the workers: blocking Studio calls, each on its own thread ----

struct WorkerState {
  std::vector<std::unique_ptr<StudioClient>> clients;  // per account, made on first use
  static inline const char* name = "voxlog.dial-worker";
};
using Worker = caf::stateful_actor<WorkerState>;

void tag(json& data, const DialRequest& r, const std::string& to) {
  if (r.campaign_id.empty()) return;
  data["campaign_id"] = r.campaign_id;
  data["phone"] = to;
  data["attempt"] = r.attempt;
}

StudioClient& client_for(Worker* self, const DialerSettings& s, std::size_t account) {
  auto& clients = self->state.clients;
  if (clients.size() <= account) clients.resize(s.accounts.size());
  if (!clients[account]) clients[account] = std::make_unique<StudioClient>(s.accounts[account].client);
  return *clients[account];
}

// Which account placed the call, in every event of the attempt (absent in events written before there
// were several accounts: those were the default's).
void name_account(json& data, const DialAccount& a) {
  data["account"] = a.name;
  if (!a.region.empty()) data["region"] = a.region;
}

DialOutcome place(Worker* self, const DialerSettings& s, const std::string& public_url, const Job& job) {
  const DialRequest& r = job.request;
  const DialAccount& account = s.accounts[job.account];
  DialOutcome out{job.to, r.request_id, {}, Status::ok()};
  json requested = {{"request_id", r.request_id},
                    {"to", job.to},
                    {"from", account.from},
                    {"by", r.by},
                    {"dnc_checked", true}};
  name_account(requested, account);
  tag(requested, r, job.to);
  // Version 0: a request id already recorded (recovery asking again for the same attempt) is not placed.
  if (Status w =
          append(*s.store, stream_prefix::dial + r.request_id, event_type::call_requested, requested, 0);
      !w) {
    out.status =
        w.code() == StatusCode::conflict
            ? failed_precondition("request " + r.request_id + " was recorded before: not placed again")
            : w;
    return out;
  }
  out.requested = true;
  json parameters = r.parameters.is_object() ? r.parameters : json::object();
  parameters["public_url"] = public_url;
  auto execution = client_for(self, s, job.account).create_execution(job.to, account.from, parameters);
  if (!execution) {
    const ApiError& e = execution.error();
    json data = {{"request_id", r.request_id},
                 {"to", job.to},
                 {"code", e.twilio_code},
                 {"http_status", e.http_status},
                 {"message", e.status.message()}};
    name_account(data, account);
    tag(data, r, job.to);
    out.status = e.status;
    out.http_status = e.http_status;
    out.twilio_code = e.twilio_code;
    if (Status w = append(*s.store, stream_prefix::dial + r.request_id, event_type::execution_rejected, data);
        !w)
      out.status = w;
    return out;
  }
  json created = {
      {"request_id", r.request_id}, {"execution_sid", execution->sid},     {"to", job.to},
      {"from", account.from},       {"flow_sid", account.client.flow_sid}, {"adopted", execution->adopted}};
  name_account(created, account);
  tag(created, r, job.to);
  out.execution_sid = execution->sid;
  // Studio has placed the call: that is the outcome, whether or not its record can be written now. An
  // outcome saying "failed" would have the number dialled again (a campaign asks again for an attempt that
  // was not placed): the callee would get two calls. So the record is retried for a few seconds (a full
  // disk may clear; the worker may block, it has a thread of its own), and the call counts as placed
  // either way. No expected version: the flow may already have reported steps of this call.
  auto wait = std::chrono::milliseconds(100);
  for (int tries = 1;; ++tries) {
    Status w = append(*s.store, stream_prefix::call + execution->sid, event_type::execution_created, created);
    if (w) break;
    if (tries == kRecordTries) {
      std::cerr << "voxlogd: call " << execution->sid << " to " << job.to
                << " was placed, but its ExecutionCreated could not be recorded: " << w.to_string() << '\n';
      break;
    }
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
  return out;
}

// Answers the request delegated with the job: the requester hears the worker directly.
caf::behavior worker(Worker* self, DialerSettings s, std::string public_url, caf::actor coordinator,
                     int index) {
  return {
      [=](work_atom, const Job& job) -> caf::message {
        if (job.kind == Job::Kind::dial) {
          DialOutcome outcome = place(self, s, public_url, job);
          // Before the answer: the number is free once the requester hears the outcome.
          self->send(coordinator, done_atom::value, index, job.to, outcome.execution_sid);
          return caf::make_message(std::move(outcome));
        }
        caf::message answer;
        if (job.kind == Job::Kind::lookup) {
          answer = caf::make_message(client_for(self, s, job.account)
                                         .executions_since(job.to, static_cast<std::time_t>(job.since_s)));
        } else {
          StudioClient& client = client_for(self, s, job.account);
          auto execution = client.fetch_execution(job.sid);
          // An ended execution's outcome lives in its Context (Studio's Execution says only "ended").
          if (execution && execution->status == "ended") {
            auto context = client.execution_context(job.sid);
            if (context) execution->context = std::move(*context);
          }
          answer = caf::make_message(std::move(execution));
        }
        self->send(coordinator, done_atom::value, index, std::string(), std::string());
        return answer;
      },
  };
}

// ---- the coordinator: checks, pace, hand-out; never blocks ----

struct DialerState {
  std::string public_url;
  std::vector<caf::actor> workers;  // spawned as they are needed, up to DialerSettings::workers
  std::deque<int> idle;
  std::deque<Queued> queue;
  std::unordered_set<std::string> being_placed;
  struct Placed {
    std::string execution_sid;
    std::int64_t at_ms = 0;
  };
  std::unordered_map<std::string, Placed> in_flight;  // E.164 -> the last call this server placed to it
  Clock::time_point next_slot = Clock::now();
  bool pump_scheduled = false;
  static inline const char* name = "voxlog.dialer";
};
using Dialer = dialer_actor::stateful_pointer<DialerState>;

bool still_in_flight(Dialer self, const DialerSettings& s, const std::string& to) {
  if (self->state.being_placed.count(to)) return true;
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

void add_worker(Dialer self, const DialerSettings& s) {
  auto& st = self->state;
  int index = static_cast<int>(st.workers.size());
  st.workers.push_back(self->template spawn<caf::detached + caf::linked>(
      worker, s, st.public_url, caf::actor_cast<caf::actor>(self), index));
  st.idle.push_back(index);
}

void pump(Dialer self, const DialerSettings& s) {
  auto& st = self->state;
  if (st.public_url.empty()) return;  // requests wait until the flow's callback URL is known
  // Every worker busy (slow creates, say): another one, so that the others' calls are not held up.
  if (!st.queue.empty() && st.idle.empty() && static_cast<int>(st.workers.size()) < std::max(1, s.workers))
    add_worker(self, s);
  auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / s.max_cps));
  while (!st.queue.empty() && !st.idle.empty()) {
    Queued& head = st.queue.front();
    if (head.job.kind == Job::Kind::dial) {
      auto now = Clock::now();
      if (st.next_slot > now) {
        if (!st.pump_scheduled) {
          st.pump_scheduled = true;
          self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(st.next_slot - now),
                             pump_atom::value);
        }
        return;
      }
      st.next_slot = std::max(now, st.next_slot) + interval;
    }
    int w = st.idle.front();
    st.idle.pop_front();
    head.promise.delegate(st.workers[static_cast<std::size_t>(w)], work_atom::value, std::move(head.job));
    st.queue.pop_front();
  }
}

caf::response_promise enqueue(Dialer self, const DialerSettings& s, Job job) {
  caf::response_promise promise = self->make_response_promise();
  self->state.queue.push_back({std::move(job), promise});
  pump(self, s);
  return promise;
}

// The index of the account named `name` (empty: the default), or the reason there is none.
Result<std::size_t> account_index(const DialerSettings& s, const std::string& name) {
  if (name.empty()) return std::size_t{0};
  for (std::size_t i = 0; i < s.accounts.size(); ++i)
    if (s.accounts[i].name == name) return i;
  // not_found: a campaign whose account left the configuration pauses (campaign_actor.cpp) until it is back.
  return not_found("no Twilio account named '" + name.substr(0, 40) + "' is configured");
}

dialer_actor::behavior_type dialer(Dialer self, DialerSettings s) {
  // Workers stop with the dialer: each finishes the create it is placing (and records it) first. Queued
  // requests are answered: their requesters must not wait for an answer that cannot come.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (Queued& q : self->state.queue) q.promise.deliver(caf::make_error(caf::sec::request_receiver_down));
    self->state.queue.clear();
    for (auto& w : self->state.workers) self->send_exit(w, msg.reason);
    self->quit(msg.reason);
  });
  return {
      [=](dial_atom, DialRequest request) -> caf::result<DialOutcome> {
        auto account = account_index(s, request.account);
        if (!account) return DialOutcome{request.number, {}, {}, account.status()};
        auto to = normalize_e164(request.number, s.default_region);
        if (!to) return DialOutcome{request.number, {}, {}, to.status()};
        if (auto dnc = s.view->dnc_find(*to)) {
          DialOutcome refused{*to,
                              {},
                              {},
                              failed_precondition(*to + " is on the do-not-call list (since " +
                                                  iso8601_ms(dnc->since_ms) + ")")};
          refused.do_not_call = true;
          return refused;
        }
        if (still_in_flight(self, s, *to)) {
          auto it = self->state.in_flight.find(*to);
          std::string which = it == self->state.in_flight.end() ? "being placed" : it->second.execution_sid;
          return DialOutcome{
              *to, {}, {}, conflict("a call to " + *to + " is already in flight (" + which + ")"), 409};
        }
        if (request.request_id.empty()) request.request_id = time_ordered_id("RQ");
        self->state.being_placed.insert(*to);
        Job job;
        job.account = *account;
        job.request = std::move(request);
        job.to = *to;
        enqueue(self, s, std::move(job));
        return caf::delegated<DialOutcome>();  // the worker that takes the job answers
      },
      [=](lookup_atom, const std::string& account_name, const std::string& phone,
          std::int64_t since_s) -> caf::result<ExecutionsResult> {
        auto account = account_index(s, account_name);
        if (!account) return ExecutionsResult(ApiError{account.status()});
        Job job;
        job.kind = Job::Kind::lookup;
        job.account = *account;
        job.to = phone;
        job.since_s = since_s;
        enqueue(self, s, std::move(job));
        return caf::delegated<ExecutionsResult>();
      },
      [=](fetch_atom, const std::string& account_name,
          const std::string& sid) -> caf::result<ExecutionResult> {
        auto account = account_index(s, account_name);
        if (!account) return ExecutionResult(ApiError{account.status()});
        Job job;
        job.kind = Job::Kind::fetch;
        job.account = *account;
        job.sid = sid;
        enqueue(self, s, std::move(job));
        return caf::delegated<ExecutionResult>();
      },
      [=](public_url_atom, const std::string& url) {
        if (!self->state.public_url.empty()) return;  // told once; the workers were given it
        self->state.public_url = url;
        add_worker(self, s);
        pump(self, s);
      },
      [=](done_atom, int worker_index, const std::string& to, const std::string& sid) {
        if (!to.empty()) {
          self->state.being_placed.erase(to);
          if (!sid.empty()) self->state.in_flight[to] = {sid, now_ms()};
        }
        self->state.idle.push_back(worker_index);
        pump(self, s);
      },
      [=](pump_atom) {
        self->state.pump_scheduled = false;
        pump(self, s);
      },
  };
}

}  // namespace

dialer_actor spawn_dialer(caf::actor_system& system, DialerSettings settings) {
  return system.spawn(dialer, std::move(settings));
}

}  // namespace voxlog
