#include "actors/campaign/campaigns.hpp"

#include <chrono>
#include <iostream>

#include "actors/ask.hpp"
#include "actors/campaign/campaign_state.hpp"
#include "eventstore/text.hpp"
#include "projections/event_types.hpp"

namespace voxlog {
namespace {

bool has_work(const CampaignRow& c) {
  if (c.state == "completed") return false;
  auto in_flight = c.counts.find(contact_state::in_flight);
  return c.state != "cancelled" || (in_flight != c.counts.end() && in_flight->second > 0);
}

}  // namespace

Campaigns::Campaigns(caf::actor_system& system, CampaignActorSettings settings)
    : system_(system), settings_(std::move(settings)), leadership_(settings_.store->leadership("campaigns")) {
  leading_ = !leadership_->contested();  // alone on its log: this node runs them from the start
}

Campaigns::~Campaigns() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  lead_cv_.notify_all();
  if (lead_thread_.joinable()) lead_thread_.join();
}

void Campaigns::start() {
  bool held = leadership_->hold();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (leading_) {  // a sole node: start what the log left running
      for (const CampaignRow& c : settings_.view->list_campaigns())
        if (has_work(c)) spawn_locked(c.id);
    } else {
      lead_locked(held);
    }
  }
  if (leadership_->contested()) lead_thread_ = std::thread([this] { lead_loop(); });
}

void Campaigns::lead_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_) {
    lead_cv_.wait_for(lock, kLeadCheck, [this] { return stopped_; });
    if (stopped_) break;
    lock.unlock();
    bool held = leadership_->hold();  // a database round trip: not under the lock
    lock.lock();
    if (!stopped_) lead_locked(held);
  }
}

void Campaigns::lead_locked(bool held) {
  if (held == leading_) return;
  leading_ = held;
  if (held) {
    std::cout << "voxlogd: this node runs the campaigns now" << std::endl;
    for (const CampaignRow& c : settings_.view->list_campaigns())
      if (has_work(c)) spawn_locked(c.id);
    return;
  }
  std::cout << "voxlogd: this node no longer runs the campaigns (the leadership moved or the log is "
               "unreachable)"
            << std::endl;
  for (auto& [id, actor] : actors_) caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  actors_.clear();
}

bool Campaigns::leading() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leading_;
}

void Campaigns::spawn_locked(const std::string& id) {
  if (stopped_ || !leading_ || actors_.count(id)) return;
  campaign_actor actor = spawn_campaign(system_, settings_, id);
  caf::actor_addr addr = actor.address();
  // Forgotten when it exits; one that failed (it could not read or write its stream) is started again
  // after a pause, from the log.
  actor->attach_functor([this, id, addr](const caf::error& reason) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || it->second.address() != addr) return;
    actors_.erase(it);
    if (reason && reason != caf::exit_reason::user_shutdown && !stopped_) {
      // A timer actor, not a thread: the actor system (which main awaits) outlives it, not this object.
      // `id` is a spawn argument, not a capture: see run_detached.
      system_.spawn(
          [this](caf::event_based_actor* self, std::string id) -> caf::behavior {
            self->delayed_send(self, std::chrono::seconds(1), caf::atom("again"));
            return {[this, self, id](caf::atom_value) {
              std::lock_guard<std::mutex> again(mu_);
              spawn_locked(id);
              self->quit();
            }};
          },
          id);
    }
  });
  actors_.emplace(id, std::move(actor));
}

Result<std::string> Campaigns::create(const CampaignImport& import, const std::string& by,
                                      const std::string& source) {
  std::string id = time_ordered_id("CM");
  AppendRequest request{
      stream_prefix::campaign + id, creation_events(id, import, by, source), 0, {}, source::api, 0};
  auto r = settings_.store->append_sync(std::move(request));
  if (!r) return r.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return unavailable("the server is stopping; the campaign is recorded and starts with it");
  spawn_locked(id);
  return id;
}

Result<std::string> Campaigns::create_list(const CampaignImport& import, const std::string& by) {
  std::string id = time_ordered_id("LS");
  auto events = creation_events(id, import, by, "list");
  // A list is its contacts: the campaign's CampaignCreated becomes ListCreated, with no policy.
  nlohmann::json created = {{"list_id", id},
                            {"name", import.name},
                            {"by", by},
                            {"accepted", import.contacts.size()},
                            {"rejected", import.rejected.size()}};
  events.front() = NewEvent{event_type::list_created, std::move(created)};
  AppendRequest request{stream_prefix::list + id, std::move(events), 0, {}, source::api, 0};
  auto r = settings_.store->append_sync(std::move(request));
  if (!r) return r.status();
  return id;
}

Result<CampaignImport> Campaigns::import_list(const std::string& list_id,
                                              const ImportDefaults& defaults) const {
  auto events = settings_.store->read_stream(stream_prefix::list + list_id, 1, 1u << 20);
  if (!events) return events.status();
  if (events->empty() || events->front().type != event_type::list_created ||
      events->back().type == event_type::list_deleted)
    return not_found("no list '" + list_id.substr(0, 100) + "'");
  CampaignImport out;
  out.name = events->front().data.value("name", "");
  out.policy.cps = defaults.default_cps;
  for (const Event& e : *events) {
    if (e.type != event_type::contacts_added) continue;
    for (const auto& c : e.data.value("contacts", nlohmann::json::array())) {
      ImportedContact contact;
      contact.phone = c.value("phone", "");
      for (const auto& z : c.value("zones", nlohmann::json::array()))
        if (z.is_string()) contact.zones.push_back(z.get<std::string>());
      contact.fields = c.value("fields", nlohmann::json::object());
      out.contacts.push_back(std::move(contact));
    }
  }
  out.total_rows = out.contacts.size();
  if (out.contacts.empty()) return invalid_argument("list '" + list_id + "' has no contacts");
  if (out.contacts.size() > defaults.max_contacts)
    return invalid_argument("the list holds more than MAX_CAMPAIGN_CONTACTS (" +
                            std::to_string(defaults.max_contacts) + ") contacts");
  return out;
}

void Campaigns::route_call(const CallRow& row) {
  if (row.batch_id.empty()) return;
  campaign_actor actor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = actors_.find(row.batch_id);
    if (it == actors_.end()) return;
    actor = it->second;
  }
  caf::anon_send(actor, call_row_atom::value, row);
}

void Campaigns::campaign_written(const std::string& id, std::uint64_t version, bool created) {
  campaign_actor actor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || !leading_) return;
    auto it = actors_.find(id);
    if (it == actors_.end()) {
      if (created) spawn_locked(id);  // created on another node
      return;
    }
    actor = it->second;
  }
  caf::anon_send(actor, written_atom::value, version);
}

void Campaigns::control(const std::string& id, Control what, const std::string& by, ControlReply reply) {
  campaign_actor actor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return reply(unavailable("the server is stopping"));
    if (!leading_) return control_through_log(id, what, by, std::move(reply));
    auto it = actors_.find(id);
    if (it != actors_.end()) actor = it->second;
  }
  if (!actor) {
    auto row = settings_.view->find_campaign(id);
    if (!row) return reply(not_found("no campaign '" + id.substr(0, 100) + "'"));
    if (has_work(*row)) {  // its actor is being started again: ask it once it is there
      std::lock_guard<std::mutex> lock(mu_);
      spawn_locked(id);
      if (auto it = actors_.find(id); it != actors_.end()) actor = it->second;
    }
  }
  if (!actor) {
    auto row = settings_.view->find_campaign(id);
    if (!row) return reply(not_found("no campaign '" + id.substr(0, 100) + "'"));
    return reply(conflict("campaign '" + id + "' is " + row->state + ": nothing to pause, resume or cancel"));
  }
  auto answered = [reply](ControlOutcome& r) { reply(r); };
  auto failed = [reply, id](caf::error& e) {
    reply(e == caf::sec::request_timeout
              ? unavailable("campaign '" + id + "' did not answer in time: try again")
              : unavailable("campaign '" + id + "' stopped: try again"));
  };
  switch (what) {
    case Control::pause:
      ask(actor, caf::duration(kControlTimeout), answered, failed, pause_atom::value, by);
      break;
    case Control::resume:
      ask(actor, caf::duration(kControlTimeout), answered, failed, resume_atom::value, by);
      break;
    case Control::cancel:
      ask(actor, caf::duration(kControlTimeout), answered, failed, cancel_atom::value, by);
      break;
  }
}

void Campaigns::control_through_log(const std::string& id, Control what, const std::string& by,
                                    ControlReply reply) {
  // Blocking reads and an append: on a thread of its own. The same rule as the actor's, on the same fold.
  run_detached([this, id, what, by, reply] {
    constexpr int kAttempts = 5;  // each lost race means the campaign moved: decide again on what it is now
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      campaign_internal::State st;
      st.s = settings_;
      st.id = id;
      st.stream = stream_prefix::campaign + id;
      if (Status s = campaign_internal::rebuild(st); !s) return reply(s);
      if (st.row.version == 0) return reply(not_found("no campaign '" + id.substr(0, 100) + "'"));
      auto decided = decide_control(st.row, what, by);
      if (!decided) return reply(decided.status());
      if (!*decided) return reply(ControlResult{st.row, false});
      Event e;
      e.stream = st.stream;
      e.type = (*decided)->type;
      e.data = (*decided)->data;
      e.ts = now_ms();
      e.source = source::system;  // as the actor records it: one history, whichever node decided
      AppendRequest request{st.stream, {std::move(**decided)}, st.row.version, {}, source::system, e.ts};
      auto r = settings_.store->append_sync(std::move(request));
      if (r) {
        e.seq = r->first_seq;
        e.version = r->stream_version;
        campaign_internal::fold(st, e);
        return reply(ControlResult{st.row, true});
      }
      if (r.status().code() != StatusCode::conflict) return reply(r.status());
    }
    reply(unavailable("campaign '" + id + "' kept changing while it was being decided: try again"));
  });
}

void Campaigns::stop_all() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    for (auto& [id, actor] : actors_) caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    actors_.clear();
  }
  lead_cv_.notify_all();
  if (lead_thread_.joinable()) lead_thread_.join();
  leadership_->release();  // another node takes the campaigns over at its next check
}

void Campaigns::run_detached(std::function<void()> work) {
  // The work is a spawn argument: CAF 0.17 keeps a function actor's arguments in a shared_ptr that is
  // null when there are none, and binds a reference to it anyway (undefined behaviour, which UBSan
  // stops the process for).
  system_.spawn<caf::detached>([](std::function<void()> run) { run(); }, std::move(work));
}

std::size_t Campaigns::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return actors_.size();
}

}  // namespace voxlog
