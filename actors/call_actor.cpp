#include "actors/call_actor.hpp"

#include <memory>

#include "actors/call_decider.hpp"
#include "actors/call_directory.hpp"
#include "eventstore/data_json.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

constexpr int kMaxConflictRetries = 5;

struct CallState {
  std::string stream;
  CallRow row;
  // One idle timer at a time, not one per webhook (the directory's IdleTimers deliver it). A tick that
  // finds recent activity re-arms for the rest of the quiet period.
  std::uint64_t idle_generation = 0;
  caf::actor_clock::time_point idle_deadline{};  // of the armed timer; {} when none is armed
  caf::actor_clock::time_point last_active{};
  static inline const char* name = "voxlog.call";
};

using CallActor = call_actor::stateful_base<CallState>;
using Behavior = call_actor::behavior_type;

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

Behavior ready(CallActor* self, CallActorSettings settings, CallDirectory* directory);

caf::actor_clock::time_point idle_deadline(const CallActor* self, const CallActorSettings& settings) {
  auto quiet =
      is_terminal_status(self->state.row.status) ? settings.idle_after_end : settings.idle_while_live;
  return self->state.last_active + quiet;
}

// Arms the idle timer unless one already fires early enough (a call that just ended wants a shorter one).
void note_activity(CallActor* self, const CallActorSettings& settings, CallDirectory* directory) {
  auto& state = self->state;
  state.last_active = self->clock().now();
  auto deadline = idle_deadline(self, settings);
  if (state.idle_deadline != caf::actor_clock::time_point{} && state.idle_deadline <= deadline) return;
  state.idle_deadline = deadline;
  directory->wake_at(deadline, self->address(), ++state.idle_generation);
}

// A current tick: retire if the call has been quiet long enough, else wait for the rest of it.
void on_idle_tick(CallActor* self, const CallActorSettings& settings, CallDirectory* directory) {
  auto& state = self->state;
  state.idle_deadline = {};
  auto now = self->clock().now();
  auto deadline = idle_deadline(self, settings);
  if (now >= deadline) {
    // Retired only if the directory still routes this call here; it then sends us `stop` behind every
    // webhook already routed to us.
    if (!directory->retire(state.stream, caf::actor_cast<call_actor>(self))) self->quit();
    return;
  }
  state.idle_deadline = deadline;
  directory->wake_at(deadline, self->address(), ++state.idle_generation);
}

Behavior writing(CallActor* self, CallActorSettings settings, CallDirectory* directory, Webhook w,
                 std::string received, WebhookReply reply, CallRow next, int attempt);

// decide() moved the webhook's parameters into the WebhookReceived event, and the store takes the events.
// Its text is kept instead (the store writes that very text, so it is serialised once): a retry after a
// conflict takes the parameters back from it. Empty if the data cannot be serialised; the store then
// refuses the append (invalid_argument), which is never retried.
std::string keep_received_text(NewEvent& received) {
  try {
    received.data_json = codec::dump_data_json(received.data);
  } catch (const nlohmann::json::exception&) {
    return {};
  }
  return received.data_json;
}

void take_back_params(Webhook& w, const std::string& received) {
  nlohmann::json data;
  if (codec::parse_data_json(received, &data) && data.contains("params"))
    w.params = std::move(data["params"]);
}

bool will_retry(const Result<AppendResult>& r, int attempt) {
  return !r && r.status().code() == StatusCode::conflict && attempt < kMaxConflictRetries;
}

void write(CallActor* self, CallActorSettings settings, CallDirectory* directory, Webhook w,
           WebhookReply reply, int attempt) {
  auto events = decide(self->state.row, w);
  std::string received = keep_received_text(events.front());
  CallRow next = fold_ahead(self, events, w);
  AppendRequest request{self->state.stream, std::move(events),      self->state.row.version,
                        w.dedupe,           source::twilio_webhook, w.received_ms};
  auto me = caf::actor_cast<call_actor>(self);
  // The webhook is answered right here, on the store's thread, once the commit is durable: the answer
  // needs nothing from this actor, and a round trip through the scheduler would queue it behind new work.
  // Only a conflict that will be retried is left to the actor.
  settings.store->append(std::move(request), [me, reply, attempt](const Result<AppendResult>& r) {
    if (!will_retry(r, attempt)) reply(r);
    caf::anon_send(me, appended_atom::value, r);
  });
  self->become(writing(self, settings, directory, std::move(w), std::move(received), std::move(reply),
                       std::move(next), attempt));
}

Behavior writing(CallActor* self, CallActorSettings settings, CallDirectory* directory, Webhook w,
                 std::string received, WebhookReply reply, CallRow next, int attempt) {
  return {
      [=, w = std::move(w), received = std::move(received), next = std::move(next)](
          appended_atom, const Result<AppendResult>& result) mutable {
        if (result && !result->duplicate) {
          next.last_seq = result->last_seq;  // the commit's seqs; versions were known (expected_version)
          self->state.row = std::move(next);
          if (self->state.row.version != result->stream_version)
            recover(self, *settings.store);  // expected_version fixed them; if not, trust the log
        }
        if (will_retry(result, attempt)) {
          if (Status s = recover(self, *settings.store); !s) {
            reply(s);
            self->become(ready(self, settings, directory));
            return;
          }
          take_back_params(w, received);
          write(self, settings, directory, std::move(w), reply, attempt + 1);
          return;
        }
        self->become(ready(self, settings, directory));
        note_activity(self, settings, directory);
      },
      // While writing, later webhooks, ticks and a stop wait their turn in the mailbox.
      [=](webhook_atom, Webhook&, WebhookReply&) -> caf::result<void> { return caf::skip(); },
      [=](tick_atom, std::uint64_t) -> caf::result<void> { return caf::skip(); },
      [=](stop_atom) -> caf::result<void> { return caf::skip(); },
  };
}

// A call placed through one Twilio account hears only from that account: a webhook whose signature another
// account's token made is refused, and nothing is recorded. (Before ExecutionCreated is in the call's
// stream, the call's account is not known yet, and any configured account's webhook is taken.)
Status same_account(const CallRow& row, const Webhook& w) {
  if (w.account.empty() || row.account.empty() || w.account == row.account) return Status::ok();
  return {StatusCode::permission_denied, "X-Twilio-Signature was made with the token of Twilio account '" +
                                             w.account + "', but this call was placed through account '" +
                                             row.account + "'"};
}

Behavior ready(CallActor* self, CallActorSettings settings, CallDirectory* directory) {
  return {
      [=](webhook_atom, Webhook& w, WebhookReply& reply) {  // mutable: the message is ours, no copy
        if (Status s = same_account(self->state.row, w); !s) return reply(s);
        write(self, settings, directory, std::move(w), std::move(reply), 0);
      },
      [=](tick_atom, std::uint64_t generation) {
        if (generation == self->state.idle_generation) on_idle_tick(self, settings, directory);
      },
      [=](appended_atom, const Result<AppendResult>&) {},  // none is under way: nothing to do
      [=](stop_atom) { self->quit(); },
  };
}

Behavior recovering(CallActor* self, std::string stream, CallActorSettings settings,
                    CallDirectory* directory) {
  self->state.stream = std::move(stream);
  settings.metrics->add_call_actors(1);
  Metrics* metrics = settings.metrics;
  std::string name = self->state.stream;
  caf::actor_addr me = self->address();
  self->attach_functor([metrics, directory, name, me] {
    metrics->add_call_actors(-1);
    directory->forget(name, me);  // a no-op once retired; after a failure, the next webhook respawns
  });
  if (Status s = recover(self, *settings.store); !s) {
    // The log cannot be read (the database is failing over, say): answer with the reason instead of
    // guessing a state, and exit, so that the call's next webhook starts an actor that reads it again.
    // Webhooks already in the mailbox are dropped with the actor, and a dropped reply answers unavailable.
    return {
        [=](webhook_atom, const Webhook&, const WebhookReply& reply) {
          reply(s);
          self->quit(caf::sec::runtime_error);
        },
        [=](appended_atom, const Result<AppendResult>&) {},
        [=](tick_atom, std::uint64_t) {},
        [=](stop_atom) { self->quit(); },
    };
  }
  note_activity(self, settings, directory);
  return ready(self, settings, directory);
}

}  // namespace

call_actor spawn_call_actor(caf::actor_system& system, const std::string& stream,
                            const CallActorSettings& settings, CallDirectory* directory) {
  return system.spawn(recovering, stream, settings, directory);
}

}  // namespace voxlog
