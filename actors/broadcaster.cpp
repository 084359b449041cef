#include "actors/broadcaster.hpp"

#include <algorithm>
#include <unordered_map>

#include "projections/event_types.hpp"

namespace voxlog {

// The /ws wire format: one JSON text frame per change, rendered once for every client that gets it.
const std::string& Change::ws_json() const {
  if (ws_json_.empty()) {
    // {"call":…,"event":…,"seq":…,"type":"event"}: nlohmann's key order, with the row written directly.
    nlohmann::json rest = {{"event", to_json(event)}, {"seq", event.seq}, {"type", "event"}};
    ws_json_ =
        "{\"call\":" + (call ? to_json_text(*call) : std::string("null")) + "," + rest.dump().substr(1);
  }
  return ws_json_;
}

namespace {

constexpr std::size_t kCatchUpPage = 256;
constexpr std::chrono::milliseconds kCatchUpPause{20};

struct Client {
  SubscriberPtr subscriber;
  std::uint64_t sent_upto = 0;  // the last seq this client has been given
  bool live = false;
};

// A call's view id as a published change carried it. The view commits up to 20 ms after the projection
// publishes (projection.hpp), so a client catching up within that window reads rows the view does not
// have yet; their ids come from here. Entries at or below the view's checkpoint are pruned.
struct PublishedId {
  std::uint64_t id = 0;
  std::uint64_t seq = 0;
};
constexpr std::size_t kPruneIdsAbove = 1024;  // grows with what a prune keeps, so pruning stays linear

struct BroadcasterState {
  std::unordered_map<std::uint64_t, Client> clients;
  std::uint64_t published_upto = 0;
  std::unordered_map<std::string, PublishedId> published_ids;  // by stream, newer than the view's commit
  std::size_t prune_ids_above = kPruneIdsAbove;
  static inline const char* name = "voxlog.broadcaster";
};

using Broadcaster = broadcaster_actor::stateful_pointer<BroadcasterState>;

void drop(Broadcaster self, Metrics& metrics, std::uint64_t id) {
  if (self->state.clients.erase(id)) metrics.add_subscribers(-1);
}

// Pushes one change; closes the client when its queue is full. Returns false if the client is gone.
bool deliver(Broadcaster self, Metrics& metrics, Client& client, const Change& change) {
  if (client.subscriber->push(change)) {
    client.sent_upto = change.event.seq;
    return true;
  }
  metrics.broadcast_dropped();
  client.subscriber->close(kCloseSlowConsumer, "slow consumer: queue full; reconnect with after=" +
                                                   std::to_string(client.sent_upto));
  drop(self, metrics, client.subscriber->id());
  return false;
}

// The call's row just before `e`, folded from its stream, with the view's id: a client catching up gets
// each event with the row as it was right after it, as a live client did. The id comes from the view,
// or from a published change when the view's commit is still under way; none if neither has the call.
std::optional<CallRow> row_before(const BroadcasterState& state, EventStore& store, CallsView& view,
                                  const Event& e) {
  std::optional<CallRow> current = view.find_by_stream(e.stream);
  std::uint64_t id = 0;
  if (current) {
    id = current->id;
  } else if (auto it = state.published_ids.find(e.stream); it != state.published_ids.end()) {
    id = it->second.id;
  } else {
    return std::nullopt;
  }
  CallRow row;
  for (std::uint64_t from = 1; from < e.version;) {
    auto page = store.read_stream(e.stream, from, e.version - from);
    if (!page || page->empty()) return current;  // cannot fold: the current row, as before
    for (const Event& earlier : *page) apply(row, earlier);
    from = row.version + 1;
  }
  row.id = id;
  return row;
}

void remember_ids(BroadcasterState& state, const CallsView& view, const std::vector<Change>& batch) {
  for (const Change& change : batch) {
    if (change.call) state.published_ids[change.event.stream] = {change.call->id, change.event.seq};
  }
  if (state.published_ids.size() <= state.prune_ids_above) return;
  std::uint64_t committed = view.checkpoint();
  for (auto it = state.published_ids.begin(); it != state.published_ids.end();) {
    it = it->second.seq <= committed ? state.published_ids.erase(it) : std::next(it);
  }
  state.prune_ids_above = std::max(kPruneIdsAbove, 2 * state.published_ids.size());
}

void catch_up(Broadcaster self, EventStore& store, CallsView& view, Metrics& metrics, std::uint64_t id) {
  auto it = self->state.clients.find(id);
  if (it == self->state.clients.end()) return;
  Client& client = it->second;
  std::uint64_t target = self->state.published_upto;
  std::size_t room = std::min(client.subscriber->room(), kCatchUpPage);
  if (client.sent_upto < target && room == 0) {
    self->delayed_send(self, kCatchUpPause, catchup_atom::value, id);  // let the client drain first
    return;
  }
  if (client.sent_upto < target) {
    auto page = store.read_all(client.sent_upto, room);
    if (!page) {
      client.subscriber->close(1011, "cannot read the log: " + page.status().message());
      drop(self, metrics, id);
      return;
    }
    std::unordered_map<std::string, std::optional<CallRow>> rows;  // as of the last event delivered
    for (Event& e : *page) {
      if (e.seq > target) break;
      std::optional<CallRow> row;
      if (e.stream.rfind(stream_prefix::call, 0) == 0) {
        auto it = rows.find(e.stream);
        if (it == rows.end()) it = rows.emplace(e.stream, row_before(self->state, store, view, e)).first;
        if (it->second) {
          apply(*it->second, e);
          row = it->second;
        }
      }
      if (!deliver(self, metrics, client, Change(std::move(e), std::move(row)))) return;
    }
  }
  if (client.sent_upto >= self->state.published_upto) {
    client.live = true;
    return;
  }
  self->send(self, catchup_atom::value, id);  // yield to live traffic between pages
}

broadcaster_actor::behavior_type broadcaster(Broadcaster self, EventStore* store, CallsView* view,
                                             Metrics* metrics, std::uint64_t published_upto,
                                             std::chrono::milliseconds heartbeat) {
  self->state.published_upto = published_upto;
  self->delayed_send(self, heartbeat, heartbeat_atom::value);
  return {
      [=](heartbeat_atom) {
        std::vector<std::uint64_t> silent;
        for (auto& [id, client] : self->state.clients)
          if (!client.subscriber->heartbeat()) silent.push_back(id);
        for (std::uint64_t id : silent) {
          self->state.clients.at(id).subscriber->close(1001, "no answer to pings: connection presumed dead");
          drop(self, *metrics, id);
        }
        self->delayed_send(self, heartbeat, heartbeat_atom::value);
      },
      [=](join_atom, const SubscriberPtr& subscriber, std::uint64_t after) {
        Client client{subscriber, std::min(after, self->state.published_upto), false};
        self->state.clients.emplace(subscriber->id(), client);
        metrics->add_subscribers(1);
        catch_up(self, *store, *view, *metrics, subscriber->id());
      },
      [=](catchup_atom, std::uint64_t id) { catch_up(self, *store, *view, *metrics, id); },
      [=](leave_atom, std::uint64_t id) { drop(self, *metrics, id); },
      [=](publish_atom, const ChangeBatch& batch) {
        std::vector<std::uint64_t> ids;
        ids.reserve(self->state.clients.size());
        for (auto& [id, client] : self->state.clients)
          if (client.live) ids.push_back(id);
        // Change after change, each to every client: the batch's first event reaches the last client
        // after one send per client, not one per client and event. Each client still gets seq order.
        for (const Change& change : *batch) {
          for (std::uint64_t id : ids) {
            auto it = self->state.clients.find(id);
            if (it == self->state.clients.end()) continue;  // closed as a slow consumer
            if (change.event.seq <= it->second.sent_upto) continue;
            deliver(self, *metrics, it->second, change);
          }
        }
        if (!batch->empty()) self->state.published_upto = batch->back().event.seq;
        remember_ids(self->state, *view, *batch);
      },
      [=](count_atom) { return self->state.clients.size(); },
      [=](close_atom) {
        for (auto& [id, client] : self->state.clients) client.subscriber->close(1001, "server shutting down");
        metrics->add_subscribers(-static_cast<std::int64_t>(self->state.clients.size()));
        self->state.clients.clear();
        return true;
      },
  };
}

}  // namespace

broadcaster_actor spawn_broadcaster(caf::actor_system& system, EventStore& store, CallsView& view,
                                    Metrics& metrics, std::uint64_t published_upto,
                                    std::chrono::milliseconds heartbeat) {
  return system.spawn(broadcaster, &store, &view, &metrics, published_upto, heartbeat);
}

}  // namespace voxlog
