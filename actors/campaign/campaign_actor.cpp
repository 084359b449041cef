#include "actors/campaign/campaign_actor.hpp"

#include <algorithm>
#include <iostream>

#include "actors/call_decider.hpp"
#include "actors/campaign/campaign_rules.hpp"
#include "actors/campaign/campaign_state.hpp"
#include "actors/dialer.hpp"
#include "eventstore/json_fields.hpp"
#include "eventstore/text.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

// Declarations, not a using-directive: call_actor.hpp has a tick_atom and an appended_atom of its own.
using campaign_internal::Actor;
using campaign_internal::appended_atom;
using campaign_internal::Behavior;
using campaign_internal::campaign_actor_impl;
using campaign_internal::check_atom;
using campaign_internal::Clock;
using campaign_internal::contact_ref;
using campaign_internal::dialed_atom;
using campaign_internal::fetched_atom;
using campaign_internal::fold;
using campaign_internal::in_flight_count;
using campaign_internal::looked_atom;
using campaign_internal::rebuild;
using campaign_internal::recover_atom;
using campaign_internal::rewrite_atom;
using campaign_internal::State;
using campaign_internal::tick_atom;
using nlohmann::json;
namespace t = event_type;
namespace cs = contact_state;

constexpr std::int64_t kWaitForOtherCallMs = 10 * 1000;  // campaign time before a busy number is asked again
constexpr std::int64_t kWaitForTwilioMs = 60 * 1000;
constexpr std::chrono::seconds kMaxWriteBackoff{30};
// Studio marks an execution ended before its last status callback reaches us (and is in the view): an
// "ended" call whose final status is missing is asked about once more after this, before it counts as
// ended without a report (which would lose the retry a busy call is owed).
constexpr std::chrono::seconds kFinalReportGrace{5};
constexpr std::size_t kUnpacedPerWrite = 500;  // skips and deferrals decided in one append, at most

Behavior running(Actor* self);

// ---- writing: every decision is appended before it takes effect ----

void append_now(Actor* self) {
  auto& st = self->state;
  AppendRequest request{st.stream, st.writing, st.row.version, {}, source::system, now_ms()};
  auto me = caf::actor_cast<campaign_actor_impl>(self);
  auto ts = request.ts;
  st.s.store->append(std::move(request), [me, ts](const Result<AppendResult>& r) {
    caf::anon_send(me, appended_atom::value, r, ts);
  });
}

// While a write is under way: its result, or a retry; every other message waits its turn in the mailbox.
Behavior writing(Actor* self) {
  using Skipped = caf::result<void>;
  using SkippedControl = caf::result<ControlOutcome>;
  return {
      [self](appended_atom, const Result<AppendResult>& r, std::int64_t ts) {
        auto& st = self->state;
        if (!r && r.status().code() == StatusCode::conflict) {
          // Someone else wrote this stream (there should be one writer): start over from the log.
          std::cerr << "voxlogd: campaign " << st.id << ": " << r.status().to_string() << "; reloading\n";
          self->quit(caf::sec::runtime_error);  // Campaigns starts a new actor, which reads the log again
          return;
        }
        if (!r) {
          std::cerr << "voxlogd: campaign " << st.id << ": write failed, retrying in " << st.backoff.count()
                    << " ms: " << r.status().to_string() << '\n';
          self->delayed_send(self, st.backoff, rewrite_atom::value);
          st.backoff = std::min<std::chrono::milliseconds>(st.backoff * 2, kMaxWriteBackoff);
          return;
        }
        std::uint64_t version = r->stream_version - st.writing.size() + 1;
        std::uint64_t seq = r->first_seq;
        for (NewEvent& n : st.writing) {
          Event e;
          e.seq = seq++;
          e.stream = st.stream;
          e.version = version++;
          e.type = n.type;
          e.ts = ts;
          e.source = source::system;
          e.data = std::move(n.data);
          fold(st, e);
        }
        st.writing.clear();
        auto then = std::move(st.after_write);
        st.after_write = nullptr;
        self->unbecome();
        if (then) then();
        self->send(self, tick_atom::value, ++st.tick_token);
      },
      [self](rewrite_atom) { append_now(self); },
      [](tick_atom, std::uint64_t) -> Skipped { return caf::skip; },
      [](check_atom) -> Skipped { return caf::skip; },
      [](call_row_atom, const CallRow&) -> Skipped { return caf::skip; },
      [](recover_atom, std::uint32_t) -> Skipped { return caf::skip; },
      [](written_atom, std::uint64_t) -> Skipped { return caf::skip; },
      [](dialed_atom, std::uint32_t, const std::string&, const DialOutcome&) -> Skipped { return caf::skip; },
      [](looked_atom, std::uint32_t, const std::string&, bool, const std::string&) -> Skipped {
        return caf::skip;
      },
      [](fetched_atom, std::uint32_t, const std::string&, const std::string&, const std::string&,
         const std::string&) -> Skipped { return caf::skip; },
      [](pause_atom, const std::string&) -> SkippedControl { return caf::skip; },
      [](resume_atom, const std::string&) -> SkippedControl { return caf::skip; },
      [](cancel_atom, const std::string&) -> SkippedControl { return caf::skip; },
  };
}

// Appends `events`, then folds them and runs `then`. Meanwhile no other message is taken.
void write(Actor* self, std::vector<NewEvent> events, std::function<void()> then = {}) {
  auto& st = self->state;
  st.writing = std::move(events);
  st.after_write = std::move(then);
  st.backoff = std::chrono::milliseconds(250);
  append_now(self);
  self->become(caf::keep_behavior, writing(self));
}

// ---- timers ----

void arm(Actor* self, std::chrono::milliseconds delay) {
  auto token = ++self->state.tick_token;
  self->delayed_send(self, std::max(delay, std::chrono::milliseconds(1)), tick_atom::value, token);
}

// ---- attempts ----

void end_attempt(Actor* self, std::uint32_t i, const std::string& status, const std::string& outcome,
                 const std::string& digits, const std::string& reason = {}) {
  auto& st = self->state;
  const ContactRow& c = st.contacts[i];
  std::int64_t now = st.s.clock.now_ms();
  AttemptVerdict verdict = judge_attempt(st.policy, c.attempts, status, outcome, now);
  if (st.row.state == "cancelled" && verdict.result == cs::retry_scheduled) verdict = {cs::no_outcome};
  json ended = contact_ref(c, c.attempts);
  ended.update({{"execution_sid", c.execution_sid},
                {"status", status},
                {"outcome", outcome},
                {"digits", digits},
                {"result", verdict.result}});
  if (!reason.empty()) ended["reason"] = reason;
  std::vector<NewEvent> events{{t::attempt_ended, std::move(ended)}};
  if (verdict.result == cs::retry_scheduled) {
    json retry = contact_ref(c, c.attempts + 1);
    retry["at"] = verdict.retry_at;
    events.push_back({t::retry_scheduled, std::move(retry)});
  }
  st.by_sid.erase(c.execution_sid);
  write(self, std::move(events));
}

// Not placed: nobody was called for this attempt; the contact is asked again later (or skipped, or the
// campaign paused).
void not_placed(Actor* self, std::uint32_t i, const std::string& reason, NewEvent then) {
  const ContactRow& c = self->state.contacts[i];
  json ended = contact_ref(c, c.attempts);
  ended.update({{"status", "not-placed"},
                {"outcome", ""},
                {"digits", ""},
                {"result", cs::pending},
                {"reason", reason}});
  write(self, {{t::attempt_ended, std::move(ended)}, std::move(then)});
}

NewEvent deferral(const State& st, const ContactRow& c, std::int64_t wait_ms, const std::string& reason) {
  json d = {{"i", c.index}, {"phone", c.phone}, {"until", st.s.clock.now_ms() + wait_ms}, {"reason", reason}};
  return {t::call_deferred, std::move(d)};
}

void on_row(Actor* self, const CallRow& row) {
  auto& st = self->state;
  auto it = st.by_sid.find(row.execution_sid);
  if (it == st.by_sid.end()) {
    st.early_rows[row.execution_sid] = row;  // its CallPlaced is on its way
    if (st.early_rows.size() > 10000) st.early_rows.clear();
    return;
  }
  const ContactRow& c = st.contacts[it->second];
  if (c.state != cs::in_flight || !is_terminal_status(row.status)) return;
  end_attempt(self, it->second, row.status, row.outcome, row.dtmf_digits);
}

void placed(Actor* self, std::uint32_t i, const std::string& sid, bool recovered) {
  auto& st = self->state;
  const ContactRow& c = st.contacts[i];
  json data = contact_ref(c, c.attempts);
  data.update({{"request_id", c.request_id}, {"execution_sid", sid}});
  if (recovered) data["recovered"] = true;
  write(self, {{t::call_placed, std::move(data)}}, [self, sid] {
    auto& st = self->state;
    auto early = st.early_rows.find(sid);
    std::optional<CallRow> row;
    if (early != st.early_rows.end()) {
      row = std::move(early->second);
      st.early_rows.erase(early);
    } else {
      row = st.s.view->find(sid);
    }
    if (row) on_row(self, *row);
  });
}

void on_dialed(Actor* self, std::uint32_t i, const std::string& request_id, const DialOutcome& o) {
  auto& st = self->state;
  if (i >= st.contacts.size()) return;
  const ContactRow& c = st.contacts[i];
  if (c.state != cs::in_flight || c.request_id != request_id || !c.execution_sid.empty()) return;
  if (o.status) return placed(self, i, o.execution_sid, false);
  const std::string& why = o.status.message();
  if (o.do_not_call)
    return not_placed(self, i, why,
                      {t::contact_skipped, {{"i", i}, {"phone", c.phone}, {"reason", "do_not_call"}}});
  switch (o.status.code()) {
    case StatusCode::conflict:
      return not_placed(self, i, why, deferral(st, c, kWaitForOtherCallMs, "in_flight"));
    case StatusCode::unavailable:
    case StatusCode::resource_exhausted:
    case StatusCode::internal: return not_placed(self, i, why, deferral(st, c, kWaitForTwilioMs, "twilio"));
    case StatusCode::unauthenticated:
    case StatusCode::permission_denied:
    case StatusCode::not_found:
      return not_placed(
          self, i, why,
          {t::campaign_paused, {{"by", "voxlog"}, {"reason", "Twilio refused the calls: " + why}}});
    case StatusCode::deadline_exceeded:
    case StatusCode::failed_precondition: {
      // The outcome is unknown (or the request was made before): Studio says whether it placed the call.
      std::int64_t since = (c.last_call_ms / 1000) - 120;
      self->request(st.s.dialer, caf::infinite, lookup_atom::value, st.row.account, c.phone, since)
          .then(
              [self, i, request_id](ExecutionsResult& r) {
                std::string sid = r && !r->empty() ? r->back().sid : "";
                self->send(self, looked_atom::value, i, request_id, r.is_ok(), sid);
              },
              [self, i, request_id](caf::error&) {
                self->send(self, looked_atom::value, i, request_id, false, std::string());
              });
      return;
    }
    default: end_attempt(self, i, "failed", "failed", "", why);
  }
}

// After a crash: an attempt queued before it. Its dial stream says how far it got.
void recover(Actor* self, std::uint32_t i) {
  auto& st = self->state;
  const ContactRow& c = st.contacts[i];
  if (!c.execution_sid.empty()) return;  // placed: the periodic check follows it
  auto dial = st.s.store->read_stream(stream_prefix::dial + c.request_id, 1, 16);
  if (dial && dial->empty())
    return not_placed(self, i, "not requested before the restart", deferral(st, c, 0, "restart"));
  if (dial) {
    for (const Event& e : *dial) {
      if (e.type == t::execution_rejected) {
        DialOutcome o{
            c.phone, c.request_id, {}, Status(StatusCode::invalid_argument, string_field(e.data, "message"))};
        int http = e.data.value("http_status", 0);
        if (http == 0 || http == 429 || http >= 500) o.status = unavailable(o.status.message());
        if (http == 409) o.status = conflict(o.status.message());
        return on_dialed(self, i, c.request_id, o);
      }
    }
  }
  DialOutcome unknown{
      c.phone, c.request_id, {}, Status(StatusCode::deadline_exceeded, "recovering after a restart")};
  on_dialed(self, i, c.request_id, unknown);
}

// ---- the loop ----

void complete(Actor* self) {
  auto& st = self->state;
  json counts = to_json(st.row)["counts"];
  write(self, {{t::campaign_completed, {{"campaign_id", st.id}, {"counts", counts}}}});
}

void dial_batch_report(Actor* self) {
  auto& st = self->state;
  json results = json::array(), errors = json::array();
  for (const json& r : st.rejected)
    errors.push_back({{"to", r.value("phone", "")}, {"code", 0}, {"message", r.value("reason", "")}});
  for (const ContactRow& c : st.contacts) {
    if (!c.execution_sid.empty()) {
      results.push_back({{"to", c.phone}, {"execution_sid", c.execution_sid}});
    } else {
      errors.push_back({{"to", c.phone}, {"code", 0}, {"message", c.reason.empty() ? c.state : c.reason}});
    }
  }
  json data = {{"batch_id", st.id},       {"total", st.row.total_rows}, {"success", results.size()},
               {"failed", errors.size()}, {"results", results},         {"errors", errors}};
  write(self, {{t::batch_dialled, std::move(data)}});
}

void tick(Actor* self) {
  auto& st = self->state;
  if (st.row.is_over() && in_flight_count(st) == 0) {
    self->quit();  // normal: nothing is left to do
    return;
  }
  if (st.row.source == "start-bulk" && !st.batch_dialled && st.ready.empty()) {
    bool all_placed = std::all_of(st.contacts.begin(), st.contacts.end(), [](const ContactRow& c) {
      return c.state != cs::in_flight || !c.execution_sid.empty();
    });
    if (all_placed) return dial_batch_report(self);
  }
  if (st.row.is_over() || st.row.state == "paused") return;
  if (st.ready.empty()) {
    if (in_flight_count(st) == 0) complete(self);
    return;
  }
  std::int64_t now = st.s.clock.now_ms();
  if (st.policy.start_at_ms > now) return arm(self, st.s.clock.wall_delay(st.policy.start_at_ms - now));
  auto [at, i] = *st.ready.begin();
  if (at > now) return arm(self, st.s.clock.wall_delay(at - now));
  // Contacts that are skipped or deferred cost no call: decided at once, many in one append, not at the pace
  // (a campaign of 100,000 started at night defers them all in seconds, not in a day).
  std::vector<NewEvent> unpaced;
  for (auto it = st.ready.begin();
       it != st.ready.end() && it->first <= now && unpaced.size() < kUnpacedPerWrite; ++it) {
    const ContactRow& c = st.contacts[it->second];
    TurnDecision turn = decide_turn(st.policy, c, st.s.view->dnc_find(c.phone).has_value(), now);
    if (turn.kind == TurnDecision::Kind::dial) break;
    json data = {{"i", c.index}, {"phone", c.phone}, {"reason", turn.reason}};
    if (turn.kind == TurnDecision::Kind::defer) data["until"] = turn.until;
    unpaced.push_back(
        {turn.kind == TurnDecision::Kind::skip ? t::contact_skipped : t::call_deferred, std::move(data)});
  }
  if (!unpaced.empty()) return write(self, std::move(unpaced));
  auto wall = Clock::now();
  if (wall < st.next_dial)
    return arm(self, std::chrono::duration_cast<std::chrono::milliseconds>(st.next_dial - wall) +
                         std::chrono::milliseconds(1));
  if (st.s.view->checkpoint() < st.contacts_seq)  // the contacts' columns are not in the view yet
    return arm(self, std::chrono::milliseconds(50));
  const ContactRow& c = st.contacts[i];
  auto interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / st.policy.cps));
  // Slots follow each other, not the moment a timer happened to fire: the pace holds on average.
  st.next_dial = wall - st.next_dial < interval ? st.next_dial + interval : wall + interval;
  int attempt = c.attempts + 1;
  std::string request_id = time_ordered_id("RQ");
  json queued = contact_ref(c, attempt);
  queued["request_id"] = request_id;
  write(self, {{t::call_queued, std::move(queued)}}, [self, i = i, attempt, request_id] {
    auto& st = self->state;
    const ContactRow& c = st.contacts[i];
    DialRequest request;
    request.number = c.phone;
    request.account = st.row.account;  // recorded in CampaignCreated: the same after any restart
    request.by = st.row.by;
    request.campaign_id = st.id;
    request.attempt = attempt;
    request.request_id = request_id;
    ContactRow full = c;
    ContactFilter one;
    one.after = i;
    one.limit = 1;
    auto stored = st.s.view->campaign_contacts(st.id, one);
    full.fields = !stored.empty() && stored[0].index == i ? stored[0].fields : json::object();
    request.parameters = call_parameters(st.id, full, attempt);
    self->request(st.s.dialer, caf::infinite, dial_atom::value, std::move(request))
        .then(
            [self, i, request_id](DialOutcome& o) { self->send(self, dialed_atom::value, i, request_id, o); },
            [self, i, request_id, phone = c.phone](caf::error&) {
              // The dialer stopped with the request: whether Studio was asked is unknown.
              DialOutcome unknown{
                  phone, request_id, {}, Status(StatusCode::deadline_exceeded, "the dialer stopped")};
              self->send(self, dialed_atom::value, i, request_id, unknown);
            });
  });
}

// Calls in flight whose end never reached us (a lost webhook, a crash): the view first, then Studio.
void check_in_flight(Actor* self, bool at_start) {
  auto& st = self->state;
  for (auto [sid, i] : st.by_sid) {
    auto row = st.s.view->find(sid);
    if (row && is_terminal_status(row->status)) {
      self->send(self, call_row_atom::value, *row);
      continue;
    }
    std::int64_t silent = now_ms() - (row ? row->updated_ms : st.contacts[i].updated_ms);
    if (!at_start && silent < st.s.check_interval.count()) continue;
    self->request(st.s.dialer, caf::infinite, fetch_atom::value, st.row.account, sid)
        .then(
            [self, i = i, sid = sid](ExecutionResult& r) {
              // Studio no longer knowing it (404) means it is over too.
              std::string status = r.is_ok()                                    ? r->status
                                   : r.status().code() == StatusCode::not_found ? "ended"
                                                                                : std::string();
              StudioReport report = r.is_ok() ? report_of(r->context) : StudioReport{};
              self->send(self, fetched_atom::value, i, sid, status, report.call_status, report.digits);
            },
            [](caf::error&) {});  // asked again at the next check
  }
}

// Decides a control (campaign_rules.hpp), writes its event and answers once it is in the log.
caf::result<ControlOutcome> control(Actor* self, CampaignControl what, const std::string& by) {
  auto decided = decide_control(self->state.row, what, by);
  if (!decided) return ControlOutcome(decided.status());
  if (!*decided) return ControlOutcome(ControlResult{self->state.row, false});
  auto promise = self->make_response_promise<ControlOutcome>();
  write(self, {std::move(**decided)}, [self, promise]() mutable {
    promise.deliver(ControlOutcome(ControlResult{self->state.row, true}));
  });
  return promise;
}

Behavior running(Actor* self) {
  return {
      [self](tick_atom, std::uint64_t token) {
        if (token == self->state.tick_token) tick(self);
      },
      [self](call_row_atom, const CallRow& row) { on_row(self, row); },
      [self](recover_atom, std::uint32_t i) { recover(self, i); },
      [self](dialed_atom, std::uint32_t i, const std::string& request_id, const DialOutcome& o) {
        on_dialed(self, i, request_id, o);
      },
      [self](looked_atom, std::uint32_t i, const std::string& request_id, bool ok, const std::string& sid) {
        auto& st = self->state;
        if (i >= st.contacts.size()) return;
        const ContactRow& c = st.contacts[i];
        if (c.state != cs::in_flight || c.request_id != request_id || !c.execution_sid.empty()) return;
        if (!ok)  // Studio cannot say: ask again later, never dial blind
          return self->delayed_send(
              self, std::chrono::seconds(5), dialed_atom::value, i, request_id,
              DialOutcome{c.phone, request_id, {}, Status(StatusCode::deadline_exceeded, "")});
        if (!sid.empty()) return placed(self, i, sid, true);
        not_placed(self, i, "Studio has no execution for this attempt", deferral(st, c, 0, "restart"));
      },
      [self](fetched_atom, std::uint32_t i, const std::string& sid, const std::string& status,
             const std::string& studio_status, const std::string& studio_digits) {
        auto& st = self->state;
        if (status != "ended") return;
        if (!st.by_sid.count(sid)) {
          st.ended_unreported.erase(sid);
          return;
        }
        auto row = st.s.view->find(sid);
        if (row && is_terminal_status(row->status)) {
          st.ended_unreported.erase(sid);
          return on_row(self, *row);
        }
        if (st.ended_unreported.insert(sid).second)
          return self->delayed_send(self, kFinalReportGrace, fetched_atom::value, i, sid, status,
                                    studio_status, studio_digits);
        st.ended_unreported.erase(sid);
        // The reports we have, completed by what Studio kept (webhooks sent while voxlogd was down are lost:
        // Studio does not send them again).
        std::string digits = row && !row->dtmf_digits.empty() ? row->dtmf_digits : studio_digits;
        std::string outcome = row && !row->outcome.empty() ? row->outcome : outcome_of_digits(digits);
        std::string final_status = !studio_status.empty()        ? studio_status
                                   : row && !row->status.empty() ? row->status
                                                                 : "unknown";
        end_attempt(self, i, final_status, outcome, digits, "the call ended without a final report");
      },
      [self](check_atom) {
        check_in_flight(self, false);
        self->delayed_send(self, self->state.s.check_interval, check_atom::value);
      },
      // No write is under way: a result or a retry arriving now belongs to none.
      [](appended_atom, const Result<AppendResult>&, std::int64_t) {},
      [](rewrite_atom) {},
      [self](pause_atom, const std::string& by) { return control(self, CampaignControl::pause, by); },
      [self](resume_atom, const std::string& by) { return control(self, CampaignControl::resume, by); },
      [self](cancel_atom, const std::string& by) { return control(self, CampaignControl::cancel, by); },
      [self](written_atom, std::uint64_t version) {
        if (version <= self->state.row.version) return;
        // Another node wrote the stream (a pause, resume or cancel taken there): read it again.
        std::cerr << "voxlogd: campaign " << self->state.id << " was written elsewhere; reloading\n";
        self->quit(caf::sec::runtime_error);  // Campaigns starts a new actor, which reads the log again
      },
  };
}

Behavior campaign(Actor* self, CampaignActorSettings settings, std::string id) {
  auto& st = self->state;
  st.s = std::move(settings);
  st.id = std::move(id);
  st.stream = stream_prefix::campaign + st.id;
  if (Status s = rebuild(st); !s) {
    std::cerr << "voxlogd: campaign " << st.id << " cannot be read: " << s.to_string() << '\n';
    self->quit(caf::sec::runtime_error);
    return running(self);  // never runs: the actor is already done
  }
  // Attempts that were under way when the server stopped.
  for (const ContactRow& c : st.contacts)
    if (c.state == cs::in_flight && c.execution_sid.empty()) self->send(self, recover_atom::value, c.index);
  check_in_flight(self, true);
  self->delayed_send(self, st.s.check_interval, check_atom::value);
  self->send(self, tick_atom::value, ++st.tick_token);
  return running(self);
}

}  // namespace

campaign_actor spawn_campaign(caf::actor_system& system, const CampaignActorSettings& settings,
                              const std::string& id) {
  return caf::actor_cast<campaign_actor>(system.spawn(campaign, settings, id));  // the narrower handle
}

}  // namespace voxlog
