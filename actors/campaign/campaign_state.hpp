// The campaign actor's state (what it knows, folded from its stream campaign-<id>) and its full typed
// interface: the public campaign_actor plus the messages it sends itself.
//
// Contract: private to actors/campaign/ (campaign_actor.cpp and its tests); nothing else includes it.
// Thread-safety: the state belongs to its actor; the functions touch only the state they are given.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/call_actor.hpp"  // Result<AppendResult> as a message
#include "actors/campaign/campaign_actor.hpp"
#include "actors/campaign/campaign_rules.hpp"

namespace voxlog::campaign_internal {

using Clock = std::chrono::steady_clock;

using tick_atom = caf::atom_constant<caf::atom("ctick")>;
using check_atom = caf::atom_constant<caf::atom("ccheck")>;
using appended_atom = caf::atom_constant<caf::atom("cappended")>;
using rewrite_atom = caf::atom_constant<caf::atom("crewrite")>;
using dialed_atom = caf::atom_constant<caf::atom("cdialed")>;
using looked_atom = caf::atom_constant<caf::atom("clooked")>;
using fetched_atom = caf::atom_constant<caf::atom("cfetched")>;
using recover_atom = caf::atom_constant<caf::atom("crecover")>;

struct State {
  CampaignActorSettings s;
  std::string id, stream;
  CampaignRow row;
  CampaignPolicy policy;
  std::vector<ContactRow> contacts;
  nlohmann::json rejected =
      nlohmann::json::array();  // ContactsRejected rows, for start-bulk's bulkCallComplete
  std::set<std::pair<std::int64_t, std::uint32_t>> ready;  // (next_at, index) of contacts waiting their turn
  std::unordered_map<std::string, std::uint32_t> by_sid;
  std::unordered_map<std::string, CallRow> early_rows;  // rows of calls whose CallPlaced is not written yet
  std::unordered_set<std::string> ended_unreported;     // Studio said ended, the final report is awaited
  Clock::time_point next_dial = Clock::now();
  std::uint64_t tick_token = 0;
  bool batch_dialled = false;
  std::uint64_t contacts_seq =
      0;  // the last ContactsAdded: the view must hold it before a dial reads columns
  // The write under way.
  std::vector<NewEvent> writing;
  std::function<void()> after_write;
  std::chrono::milliseconds backoff{250};
  static inline const char* name = "voxlog.campaign";
};

// The interface others see, and the messages the actor sends itself: its timers, the results of its own
// writes and the answers it was given (each handled as a message of its own, after the write under way).
using campaign_actor_impl = campaign_actor::extend<
    caf::reacts_to<tick_atom, std::uint64_t>,  // a timer of the given generation; a stale one is ignored
    caf::reacts_to<check_atom>,                // check the calls in flight
    caf::reacts_to<recover_atom, std::uint32_t>,
    caf::reacts_to<dialed_atom, std::uint32_t, std::string, DialOutcome>,
    caf::reacts_to<looked_atom, std::uint32_t, std::string, bool, std::string>,
    // contact, execution SID, Studio's status of the execution, its call's status and digits
    caf::reacts_to<fetched_atom, std::uint32_t, std::string, std::string, std::string, std::string>,
    caf::reacts_to<appended_atom, Result<AppendResult>, std::int64_t>,  // the write under way, with its ts
    caf::reacts_to<rewrite_atom>>;                                      // retry the write under way
using Actor = campaign_actor_impl::stateful_base<State>;
using Behavior = campaign_actor_impl::behavior_type;

bool waits(const ContactRow& c);  // pending, deferred or retry_scheduled: it will be dialled again
// Folds one event of the stream into the state, keeping the ready set and the SID index in step.
void fold(State& st, const Event& e);
Status rebuild(State& st);  // folds the whole stream from the log
std::size_t in_flight_count(const State& st);
nlohmann::json contact_ref(const ContactRow& c, int attempt);  // {i, phone, attempt}: names an attempt

}  // namespace voxlog::campaign_internal
