#include "actors/call_actor.hpp"

#include <memory>

#include "actors/call_decider.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

constexpr int kMaxConflictRetries = 5;

struct CallState {
  std::string stream;
  CallRow row;
  // One idle timer at a time, not one per webhook: every delayed message is a round trip through CAF's
  // clock thread. A tick that finds recent activity re-arms for the rest of the quiet period.
  std::uint64_t idle_generation = 0;
  caf::actor_clock::time_point idle_deadline{};  // of the armed timer; {} when none is armed
  caf::actor_clock::time_point last_active{};
  static inline const char* name = "voxlog.call";
};

using CallActor = caf::stateful_actor<CallState>;

Status recover(CallActor* self, EventStore& store) {
  CallRow row;
  for (std::uint64_t from = 1;;) {
    auto page = store.read_stream(self->state.stream, from, 1024);
    if (!page) return page.status();
    for (const Event& e : *page) apply(row, e);
    if (page->size() < 1024) break;
    from = row.version + 1;
  }
  self->state.row = std::move(row);
  return Status::ok();
}

// The row after `events`, folded exactly as the projection will read them back once committed, except
// for the two fields only the commit knows (apply() takes nothing else from the seq): the caller sets
// last_seq when the append succeeds. Folding before the append lets the events go to the store without
// a copy; their data is lent to each Event and given back.
CallRow fold_ahead(const CallActor* self, std::vector<NewEvent>& events, const Webhook& w) {
  CallRow row = self->state.row;
  for (std::size_t i = 0; i < events.size(); ++i) {
    Event e{0,
            self->state.stream,
            self->state.row.version + 1 + i,
            std::move(events[i].type),
            events[i].v,
            w.received_ms,
            source::twilio_webhook,
            w.dedupe,
            std::move(events[i].data)};
    apply(row, e);
    events[i].type = std::move(e.type);
    events[i].data = std::move(e.data);
  }
  return row;
}

caf::behavior ready(CallActor* self, CallActorSettings settings, caf::actor router);

caf::actor_clock::time_point idle_deadline(const CallActor* self, const CallActorSettings& settings) {
  auto quiet =
      is_terminal_status(self->state.row.status) ? settings.idle_after_end : settings.idle_while_live;
  return self->state.last_active + quiet;
}

// Arms the idle timer unless one already fires early enough (a call that just ended wants a shorter one).
void note_activity(CallActor* self, const CallActorSettings& settings) {
  auto& state = self->state;
  state.last_active = self->clock().now();
  auto deadline = idle_deadline(self, settings);
  if (state.idle_deadline != caf::actor_clock::time_point{} && state.idle_deadline <= deadline) return;
  state.idle_deadline = deadline;
  self->delayed_send(self, deadline - state.last_active, tick_atom::value, ++state.idle_generation);
}

// A current tick: retire if the call has been quiet long enough, else wait for the rest of it.
void on_idle_tick(CallActor* self, const CallActorSettings& settings, const caf::actor& router) {
  auto& state = self->state;
  state.idle_deadline = {};
  auto now = self->clock().now();
  auto deadline = idle_deadline(self, settings);
  if (now >= deadline) {
    self->send(router, idle_atom::value, state.stream);
    return;
  }
  state.idle_deadline = deadline;
  self->delayed_send(self, deadline - now, tick_atom::value, ++state.idle_generation);
}

using SharedReply = std::shared_ptr<const WebhookReply>;

caf::behavior writing(CallActor* self, CallActorSettings settings, caf::actor router, Webhook w,
                      SharedReply reply, CallRow next, int attempt);

bool will_retry(const Result<AppendResult>& r, int attempt) {
  return !r && r.status().code() == StatusCode::conflict && attempt < kMaxConflictRetries;
}

void write(CallActor* self, CallActorSettings settings, caf::actor router, Webhook w, SharedReply reply,
           int attempt) {
  auto events = decide(self->state.row, w);
  CallRow next = fold_ahead(self, events, w);
  AppendRequest request{self->state.stream, std::move(events),      self->state.row.version,
                        w.dedupe,           source::twilio_webhook, w.received_ms};
  auto me = caf::actor_cast<caf::actor>(self);
  // The webhook is answered right here, on the store's thread, once the commit is durable: the answer
  // needs nothing from this actor, and a round trip through the scheduler would queue it behind new work.
  // Only a conflict that will be retried is left to the actor.
  settings.store->append(std::move(request), [me, reply, attempt](const Result<AppendResult>& r) {
    if (!will_retry(r, attempt)) (*reply)(r);
    caf::anon_send(me, appended_atom::value, r);
  });
  self->become(writing(self, settings, router, std::move(w), std::move(reply), std::move(next), attempt));
}

caf::behavior writing(CallActor* self, CallActorSettings settings, caf::actor router, Webhook w,
                      SharedReply reply, CallRow next, int attempt) {
  return {
      [=, w = std::move(w), next = std::move(next)](appended_atom,
                                                    const Result<AppendResult>& result) mutable {
        if (result && !result->duplicate) {
          next.last_seq = result->last_seq;  // the commit's seqs; versions were known (expected_version)
          self->state.row = std::move(next);
          if (self->state.row.version != result->stream_version)
            recover(self, *settings.store);  // expected_version fixed them; if not, trust the log
        }
        if (will_retry(result, attempt)) {
          if (Status s = recover(self, *settings.store); !s) {
            (*reply)(s);
            self->become(ready(self, settings, router));
            return;
          }
          write(self, settings, router, std::move(w), reply, attempt + 1);
          return;
        }
        self->become(ready(self, settings, router));
        note_activity(self, settings);
      },
  };
}

caf::behavior ready(CallActor* self, CallActorSettings settings, caf::actor router) {
  return {
      [=](webhook_atom, Webhook& w, WebhookReply& reply) {  // mutable: the message is ours, no copy
        write(self, settings, router, std::move(w), std::make_shared<const WebhookReply>(std::move(reply)),
              0);
      },
      [=](tick_atom, std::uint64_t generation) {
        if (generation == self->state.idle_generation) on_idle_tick(self, settings, router);
      },
      [=](stop_atom) { self->quit(); },
  };
}

caf::behavior call_actor(CallActor* self, std::string stream, CallActorSettings settings, caf::actor router) {
  self->state.stream = std::move(stream);
  self->set_default_handler(caf::skip);  // while writing, later webhooks wait their turn
  settings.metrics->add_call_actors(1);
  Metrics* metrics = settings.metrics;
  self->attach_functor([metrics] { metrics->add_call_actors(-1); });
  if (Status s = recover(self, *settings.store); !s) {
    // The log cannot be read: answer every webhook with the reason instead of guessing a state.
    return {
        [=](webhook_atom, const Webhook&, const WebhookReply& reply) { reply(s); },
        [=](stop_atom) { self->quit(); },
    };
  }
  note_activity(self, settings);
  return ready(self, settings, router);
}

struct RouterState {
  std::unordered_map<std::string, caf::actor> actors;  // stream -> its call actor
  std::unordered_map<std::string, std::string> alias;  // SID -> stream
  static inline const char* name = "voxlog.router";
};

using Router = caf::stateful_actor<RouterState>;

// The call's stream: whichever of its SIDs we already know (a CallSid seen alone first keeps its stream
// when the execution SID turns up), else a new stream named after the execution SID, else the CallSid.
std::string stream_for(Router* self, const Webhook& w) {
  auto& alias = self->state.alias;
  std::string stream;
  for (const std::string* sid : {&w.execution_sid, &w.call_sid}) {
    if (sid->empty()) continue;
    if (auto it = alias.find(*sid); it != alias.end()) {
      stream = it->second;
      break;
    }
  }
  if (stream.empty()) stream = stream_prefix::call + (w.execution_sid.empty() ? w.call_sid : w.execution_sid);
  if (!w.execution_sid.empty()) alias.emplace(w.execution_sid, stream);
  if (!w.call_sid.empty()) alias.emplace(w.call_sid, stream);
  return stream;
}

caf::behavior router(Router* self, CallActorSettings settings,
                     std::unordered_map<std::string, std::string> known_aliases) {
  self->state.alias = std::move(known_aliases);
  // Call actors are linked so that they stop with the router; one that fails must not take the router
  // (and every other call) down: forget it, the next webhook recovers the call from the log.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    // A call actor exits normally only when retired (already forgotten on idle_atom). Returning before the
    // scan matters: with tens of thousands of calls a scan per retirement is quadratic.
    if (msg.reason == caf::exit_reason::normal) return;
    auto& actors = self->state.actors;
    for (auto it = actors.begin(); it != actors.end(); ++it) {
      if (it->second.address() == msg.source) {
        actors.erase(it);
        return;
      }
    }
    self->quit(msg.reason);  // not one of ours: the shutdown's exit
  });
  return {
      [=](webhook_atom, Webhook& w, WebhookReply& reply) {  // mutable: moved on, not copied
        std::string stream = stream_for(self, w);
        auto& actor = self->state.actors[stream];
        if (!actor)
          actor = self->spawn<caf::linked>(call_actor, stream, settings, caf::actor_cast<caf::actor>(self));
        self->send(actor, webhook_atom::value, std::move(w), std::move(reply));
      },
      [=](alias_atom, const std::string& sid, const std::string& stream) { self->state.alias[sid] = stream; },
      [=](idle_atom, const std::string& stream) {
        auto it = self->state.actors.find(stream);
        if (it == self->state.actors.end() ||
            it->second != caf::actor_cast<caf::actor>(self->current_sender()))
          return;
        // Everything routed to it so far is already in its mailbox, ahead of this stop.
        self->send(it->second, stop_atom::value);
        self->state.actors.erase(it);
      },
      [=](count_atom) { return self->state.actors.size(); },
  };
}

}  // namespace

caf::actor spawn_router(caf::actor_system& system, CallActorSettings settings,
                        std::unordered_map<std::string, std::string> known_aliases) {
  // Every webhook passes through the router, so it gets a thread of its own rather than a turn in CAF's
  // work queues behind the call actors. Under load a few percent of webhooks waited 30-500 ms to reach
  // it; on its own thread that tail roughly halved (the ingestion benchmark's p99 went from 170-200 ms
  // to 110-150 ms in alternating runs).
  return system.spawn<caf::detached>(router, settings, std::move(known_aliases));
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
