// Campaigns: finds, starts and reaches the campaign actors; the one door to campaigns for HTTP and for
// the calls projection.
//
// Contract: start() spawns an actor for every campaign of the projection that still has work (not
// completed; cancelled with calls still in flight). create() records a new campaign (CampaignCreated,
// ContactsAdded, ContactsRejected in one atomic append on its new stream, campaign-<id>) and spawns its
// actor; it blocks on the append, so call it off the io thread (the HTTP route runs it on a detached
// actor). route_call() takes a call row changed by the calls projection and hands it to its campaign's actor
// (rows whose batchId names no running campaign are ignored). control() pauses, resumes or cancels;
// not_found for an unknown id, conflict for one that is over (completed, cancelled).
// stop_all() sends every actor an exit (shutdown); later calls are refused with unavailable.
//
// Several nodes on one log (PostgreSQL): the campaigns run on one node, the one holding the log's
// "campaigns" leadership (leadership.hpp); start() takes it if it is free and a thread of its own asks again
// every kLeadCheck, so a surviving node takes a dead one's campaigns over within seconds, from the log.
// Every node records new campaigns (create) and their calls' webhooks; the leader's calls projection
// hands them on (campaign_written). A control asked on a node that does not run the campaign is decided
// there, from the campaign's stream, and appended with the stream's expected version; the running actor
// sees its stream move (campaign_written) and reads it again. A node that loses the leadership stops its
// actors; a stale leader's write conflicts on the stream version, so no decision is taken twice.
//
// Thread-safety: every method may be called from any thread (a map under a mutex, as in CallDirectory:
// the projection actor's thread must not wait for an actor's mailbox).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/campaign/campaign_actor.hpp"
#include "actors/campaign/campaign_rules.hpp"
#include "actors/campaign/contact_import.hpp"
#include "eventstore/leadership.hpp"

namespace voxlog {

class Campaigns {
 public:
  static constexpr std::chrono::seconds kLeadCheck{1};  // how often the leadership is taken or checked

  Campaigns(caf::actor_system& system, CampaignActorSettings settings);
  ~Campaigns();  // stops the leadership thread (stop_all() first)
  Campaigns(const Campaigns&) = delete;
  Campaigns& operator=(const Campaigns&) = delete;

  // Takes the leadership if it is free (a database round trip on PostgreSQL) and, when held, starts the
  // campaigns that have work.
  void start();
  Result<std::string> create(const CampaignImport& import, const std::string& by, const std::string& source);
  // Contact lists: create() for a list (ListCreated, its ContactsAdded, stream list-<id>), and the contacts
  // of a list as an import for a campaign (not_found for a deleted or unknown list). Both block on the log.
  Result<std::string> create_list(const CampaignImport& import, const std::string& by);
  Result<CampaignImport> import_list(const std::string& list_id, const ImportDefaults& defaults) const;
  void route_call(const CallRow& row);
  // An event of campaign `id`'s stream committed at `version` (from the calls projection, any node's
  // write); `created` for its CampaignCreated.
  void campaign_written(const std::string& id, std::uint64_t version, bool created);
  using Control = CampaignControl;
  // Asks the campaign's actor (request/response, at most kControlTimeout) and runs `reply` with its answer
  // on a thread of the actor system; a campaign with no actor is answered from the view at once.
  using ControlReply = std::function<void(const ControlOutcome&)>;
  static constexpr std::chrono::seconds kControlTimeout{30};  // a write may be retrying (a full disk)
  void control(const std::string& id, Control what, const std::string& by, ControlReply reply);
  void stop_all();
  std::size_t running() const;
  bool leading() const;  // whether this node runs the campaigns
  const CampaignClock& clock() const { return settings_.clock; }
  // Runs blocking work (an import, an export) on a thread of its own, off the io thread and the scheduler.
  void run_detached(std::function<void()> work);

 private:
  void spawn_locked(const std::string& id);
  void lead_locked(bool held);  // starts or stops the campaigns as the leadership came or went
  void lead_loop();
  void control_through_log(const std::string& id, Control what, const std::string& by, ControlReply reply);

  caf::actor_system& system_;
  CampaignActorSettings settings_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, campaign_actor> actors_;  // campaign id -> its actor
  bool stopped_ = false;
  std::unique_ptr<Leadership> leadership_;
  bool leading_ = false;  // guarded by mu_
  std::condition_variable lead_cv_;
  std::thread lead_thread_;
};

}  // namespace voxlog
