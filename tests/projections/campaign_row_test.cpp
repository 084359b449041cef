// The campaign fold (projections/campaign_row.hpp): counts and contact states from a campaign's events,
// the rows' JSON round trips, and the campaigns projection and do-not-call list of the calls view
// (campaigns_table.hpp), live and rebuilt.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "projections/calls_view.hpp"
#include "projections/campaign_row.hpp"
#include "projections/event_types.hpp"
#include "tests/eventstore/temp_dir.hpp"

using namespace voxlog;
using nlohmann::json;
namespace cs = contact_state;
namespace t = event_type;

namespace {

const char* kStream = "campaign-CMtest";
const char* kAnn = "+447400123456";
const char* kBob = "+447400123457";
const char* kCat = "+12015550123";

// Events of several streams with one global seq, and each stream's versions from 1.
class Log {
 public:
  Event& add(const std::string& stream, const std::string& type, json data, std::int64_t ts) {
    Event e;
    e.seq = events_.size() + 1;
    e.stream = stream;
    e.version = ++versions_[stream];
    e.type = type;
    e.ts = ts;
    e.source = "test";
    e.data = std::move(data);
    events_.push_back(std::move(e));
    return events_.back();
  }
  Event& campaign(const std::string& type, json data, std::int64_t ts) {
    return add(kStream, type, std::move(data), ts);
  }
  const std::vector<Event>& events() const { return events_; }

 private:
  std::vector<Event> events_;
  std::map<std::string, std::uint64_t> versions_;
};

json policy_json() {
  CampaignPolicy p;
  p.max_attempts = 3;
  p.retry_spacing_s = 600;
  p.window_from_min = 9 * 60;
  p.window_to_min = 20 * 60;
  p.window_days = 0x1f;
  return to_json(p);
}

json created(bool scheduled = false) {
  return {{"campaign_id", "CMtest"},
          {"name", "Flu jabs"},
          {"source", "api"},
          {"by", "ops"},
          {"policy", policy_json()},
          {"scheduled", scheduled},
          {"total_rows", 4},
          {"accepted", 3},
          {"rejected", 1}};
}

json three_contacts() {
  return {{"first", 0},
          {"contacts",
           {{{"phone", kAnn}, {"zones", json::array({"Europe/London"})}, {"fields", {{"name", "Ann"}}}},
            {{"phone", kBob}, {"zones", json::array({"region:GB"})}, {"fields", json::object()}},
            {{"phone", kCat},
             {"zones", json::array({"region:US"})},
             {"fields", {{"name", "Cat"}, {"clinic", "East"}}}}}}};
}

// A campaign and its contacts, folded in memory with apply().
struct Fold {
  CampaignRow campaign;
  std::map<std::uint32_t, ContactRow> contacts;
  void operator()(const Event& e) {
    apply(campaign, e, [&](std::uint32_t i) -> ContactRow& { return contacts[i]; });
  }
  std::uint64_t count(const char* state) const {
    auto it = campaign.counts.find(state);
    return it == campaign.counts.end() ? 0 : it->second;
  }
};

// The whole story of CMtest: one contact retried then confirmed, one asked again then deferred, one
// skipped; a pause, a resume, the completion. Steps record what the fold must show after them.
void story(Log& log) {
  log.campaign(t::campaign_created, created(), 1000);       // 1
  log.campaign(t::contacts_added, three_contacts(), 1000);  // 2
  log.campaign(t::contacts_rejected,
               {{"rows", json::array({{{"row", 3}, {"phone", "x"}, {"reason", "bad"}}})}}, 1000);  // 3
  log.campaign(t::call_queued, {{"i", 0}, {"phone", kAnn}, {"attempt", 1}, {"request_id", "rq-1"}},
               2000);  // 4
  log.campaign(t::call_placed,
               {{"i", 0}, {"phone", kAnn}, {"attempt", 1}, {"request_id", "rq-1"}, {"execution_sid", "FN1"}},
               2100);  // 5
  log.campaign(t::attempt_ended,
               {{"i", 0},
                {"phone", kAnn},
                {"attempt", 1},
                {"execution_sid", "FN1"},
                {"status", "busy"},
                {"outcome", "busy"},
                {"digits", ""},
                {"result", "retry_scheduled"}},
               3000);                                                                                   // 6
  log.campaign(t::retry_scheduled, {{"i", 0}, {"phone", kAnn}, {"attempt", 2}, {"at", 603000}}, 3000);  // 7
  log.campaign(t::call_queued, {{"i", 1}, {"phone", kBob}, {"attempt", 1}, {"request_id", "rq-2"}},
               3500);  // 8
  log.campaign(t::attempt_ended,
               {{"i", 1},
                {"phone", kBob},
                {"attempt", 1},
                {"status", "unknown"},
                {"outcome", ""},
                {"digits", ""},
                {"result", "pending"},
                {"reason", "twilio"}},
               3600);                                                                              // 9
  log.campaign(t::contact_skipped, {{"i", 2}, {"phone", kCat}, {"reason", "do_not_call"}}, 3700);  // 10
  log.campaign(t::call_deferred, {{"i", 1}, {"phone", kBob}, {"until", 90000}, {"reason", "window"}},
               3800);                                                                  // 11
  log.campaign(t::campaign_paused, {{"by", "ops"}, {"reason", "twilio down"}}, 4000);  // 12
  log.campaign(t::campaign_resumed, {{"by", "ops"}}, 5000);                            // 13
  log.campaign(t::call_queued, {{"i", 0}, {"phone", kAnn}, {"attempt", 2}, {"request_id", "rq-3"}},
               603000);  // 14
  log.campaign(t::attempt_ended,
               {{"i", 0},
                {"phone", kAnn},
                {"attempt", 2},
                {"execution_sid", "FN3"},
                {"status", "completed"},
                {"outcome", "confirmed"},
                {"digits", "1"},
                {"result", "confirmed"}},
               604000);  // 15
  log.campaign(t::call_queued, {{"i", 1}, {"phone", kBob}, {"attempt", 1}, {"request_id", "rq-4"}},
               700000);  // 16
  log.campaign(t::attempt_ended,
               {{"i", 1},
                {"phone", kBob},
                {"attempt", 1},
                {"execution_sid", "FN4"},
                {"status", "no-answer"},
                {"outcome", "no-answer"},
                {"digits", ""},
                {"result", "unreachable"}},
               701000);  // 17
  log.campaign(t::campaign_completed, {{"counts", {{"confirmed", 1}, {"unreachable", 1}, {"skipped", 1}}}},
               702000);  // 18
}

std::unique_ptr<CallsView> open_view(const std::string& dir) {
  auto view = CallsView::open(dir);
  REQUIRE(view);
  return std::move(*view);
}

}  // namespace

TEST_CASE("campaign fold: CampaignCreated and ContactsAdded give the campaign and its pending contacts") {
  Log log;
  story(log);
  Fold f;
  f(log.events()[0]);
  CHECK(f.campaign.id == "CMtest");
  CHECK(f.campaign.name == "Flu jabs");
  CHECK(f.campaign.source == "api");
  CHECK(f.campaign.by == "ops");
  CHECK(f.campaign.state == "running");
  CHECK(f.campaign.policy == policy_json());
  CHECK(campaign_policy_from_json(f.campaign.policy).max_attempts == 3);
  CHECK(f.campaign.total_rows == 4);
  CHECK(f.campaign.contacts == 3);
  CHECK(f.campaign.rejected == 1);
  CHECK(f.campaign.created_ms == 1000);
  CHECK(f.campaign.version == 1);
  CHECK(f.campaign.last_seq == 1);
  CHECK(f.contacts.empty());

  f(log.events()[1]);
  f(log.events()[2]);  // ContactsRejected changes no count
  REQUIRE(f.contacts.size() == 3);
  CHECK(f.count(cs::pending) == 3);
  CHECK(f.campaign.counts.size() == 1);
  const ContactRow& cat = f.contacts[2];
  CHECK(cat.index == 2);
  CHECK(cat.phone == kCat);
  CHECK(cat.zones == std::vector<std::string>{"region:US"});
  CHECK(cat.fields == json{{"name", "Cat"}, {"clinic", "East"}});
  CHECK(cat.state == cs::pending);
  CHECK(cat.attempts == 0);
  CHECK(f.campaign.version == 3);
  CHECK_FALSE(f.campaign.all_final());
}

TEST_CASE("campaign fold: each event moves its contact, and the counts follow") {
  Log log;
  story(log);
  const auto& ev = log.events();
  Fold f;
  for (int k = 0; k < 4; ++k) f(ev[k]);  // through CallQueued of Ann
  ContactRow& ann = f.contacts[0];
  CHECK(ann.state == cs::in_flight);
  CHECK(ann.attempts == 1);
  CHECK(ann.request_id == "rq-1");
  CHECK(ann.first_call_ms == 2000);
  CHECK(ann.last_call_ms == 2000);
  CHECK(f.count(cs::in_flight) == 1);
  CHECK(f.count(cs::pending) == 2);

  f(ev[4]);  // CallPlaced
  CHECK(ann.execution_sid == "FN1");
  CHECK(ann.state == cs::in_flight);

  f(ev[5]);  // AttemptEnded busy, result retry_scheduled
  f(ev[6]);  // RetryScheduled
  CHECK(ann.state == cs::retry_scheduled);
  CHECK(ann.next_at_ms == 603000);
  CHECK(ann.reason == "retry 2 of 3");
  CHECK(ann.last_status == "busy");
  CHECK(ann.outcome == "busy");
  CHECK(ann.attempts == 1);
  CHECK(f.count(cs::retry_scheduled) == 1);
  CHECK(f.count(cs::in_flight) == 0);
  CHECK(f.campaign.counts.count(cs::in_flight) == 0);  // an emptied state leaves the map

  f(ev[7]);  // Bob queued
  CHECK(f.contacts[1].attempts == 1);
  f(ev[8]);  // AttemptEnded pending: that attempt never rang
  ContactRow& bob = f.contacts[1];
  CHECK(bob.state == cs::pending);
  CHECK(bob.attempts == 0);
  CHECK(bob.reason == "twilio");
  CHECK(f.count(cs::pending) == 2);

  f(ev[9]);  // Cat skipped
  CHECK(f.contacts[2].state == cs::skipped);
  CHECK(f.contacts[2].reason == "do_not_call");
  f(ev[10]);  // Bob deferred
  CHECK(bob.state == cs::deferred);
  CHECK(bob.next_at_ms == 90000);
  CHECK(bob.reason == "window");
  CHECK(f.count(cs::deferred) == 1);
  CHECK(f.count(cs::pending) == 0);

  f(ev[11]);
  CHECK(f.campaign.state == "paused");
  CHECK(f.campaign.reason == "twilio down");
  f(ev[12]);
  CHECK(f.campaign.state == "running");
  CHECK(f.campaign.reason.empty());

  f(ev[13]);  // Ann's second attempt
  CHECK(ann.state == cs::in_flight);
  CHECK(ann.attempts == 2);
  CHECK(ann.next_at_ms == 0);
  CHECK(ann.reason.empty());
  CHECK(ann.execution_sid.empty());
  CHECK(ann.first_call_ms == 2000);
  CHECK(ann.last_call_ms == 603000);
  f(ev[14]);
  CHECK(ann.state == cs::confirmed);
  CHECK(ann.digits == "1");
  CHECK(ann.execution_sid == "FN3");
  CHECK(ann.updated_ms == 604000);

  f(ev[15]);
  f(ev[16]);
  CHECK(bob.state == cs::unreachable);
  CHECK(f.campaign.all_final());
  CHECK(f.campaign.counts ==
        std::map<std::string, std::uint64_t>{{cs::confirmed, 1}, {cs::unreachable, 1}, {cs::skipped, 1}});
  CHECK_FALSE(f.campaign.is_over());
  f(ev[17]);
  CHECK(f.campaign.state == "completed");
  CHECK(f.campaign.finished_ms == 702000);
  CHECK(f.campaign.is_over());
  CHECK(f.campaign.version == 18);
  CHECK(f.campaign.last_seq == 18);
  CHECK(f.campaign.updated_ms == 702000);
}

TEST_CASE("campaign fold: scheduled until a contact moves, cancelled stays cancelled") {
  Log log;
  log.campaign(t::campaign_created, created(true), 1000);
  log.campaign(t::contacts_added, three_contacts(), 1000);
  Fold f;
  f(log.events()[0]);
  CHECK(f.campaign.state == "scheduled");
  f(log.events()[1]);
  CHECK(f.campaign.state == "scheduled");
  f(log.campaign(t::campaign_paused, {{"by", "ops"}}, 1500));
  CHECK(f.campaign.state == "paused");

  Fold g;
  g(log.events()[0]);
  g(log.events()[1]);
  g(log.campaign(t::call_deferred, {{"i", 0}, {"until", 5000}, {"reason", "window"}}, 2000));
  CHECK(g.campaign.state == "running");

  g(log.campaign(t::campaign_cancelled, {{"by", "ops"}, {"reason", "wrong list"}}, 3000));
  CHECK(g.campaign.state == "cancelled");
  CHECK(g.campaign.finished_ms == 3000);
  CHECK(g.campaign.is_over());
  g(log.campaign(t::campaign_paused, {{"by", "ops"}}, 3100));
  CHECK(g.campaign.state == "cancelled");
  g(log.campaign(t::campaign_resumed, {{"by", "ops"}}, 3200));
  CHECK(g.campaign.state == "cancelled");
}

TEST_CASE("campaign fold: an AttemptEnded without a result is no_outcome") {
  Log log;
  log.campaign(t::campaign_created, created(), 1000);
  log.campaign(t::contacts_added, three_contacts(), 1000);
  log.campaign(t::call_queued, {{"i", 2}, {"attempt", 1}, {"request_id", "rq"}}, 2000);
  log.campaign(t::attempt_ended, {{"i", 2}, {"attempt", 1}, {"status", "completed"}}, 3000);
  Fold f;
  for (const Event& e : log.events()) f(e);
  CHECK(f.contacts[2].state == cs::no_outcome);
  CHECK(f.contacts[2].last_status == "completed");
  CHECK(f.count(cs::no_outcome) == 1);
  CHECK(contact_index(log.events()[3]) == 2);
  CHECK(contact_index(log.events()[1]) == -1);
  CHECK(contact_index(log.events()[0]) == -1);
}

TEST_CASE("campaign rows: to_json(from_json(to_json(x))) == to_json(x) after every event") {
  Log log;
  story(log);
  Fold f;
  for (const Event& e : log.events()) {
    f(e);
    INFO("after seq " << e.seq << " " << e.type);
    json once = to_json(f.campaign);
    CHECK(to_json(campaign_row_from_json(once)) == once);
    for (const auto& [i, row] : f.contacts) {
      json c = to_json(row);
      CHECK(to_json(contact_row_from_json(c)) == c);
    }
  }
  json last = to_json(f.campaign);
  CHECK(last["id"] == "CMtest");
  CHECK(last["state"] == "completed");
  CHECK(last["counts"]["confirmed"] == 1);
  CHECK(last["counts"]["pending"] == 0);  // every state is listed
  CHECK(last["counts"].size() == contact_states().size());
  CHECK(last["finishedAt"] == 702000);
  CHECK(last["reason"].is_null());
  json ann = to_json(f.contacts[0]);
  CHECK(ann["phone"] == kAnn);
  CHECK(ann["state"] == "confirmed");
  CHECK(ann["attempts"] == 2);
  CHECK(ann["nextAt"].is_null());
  CHECK(ann["firstCallAt"] == 2000);
  CHECK(ann["executionSid"] == "FN3");
}

TEST_CASE("campaign policy: to_json and campaign_policy_from_json agree") {
  CampaignPolicy p = campaign_policy_from_json(policy_json());
  CHECK(p.max_attempts == 3);
  CHECK(p.retry_spacing_s == 600);
  CHECK(p.window_from_min == 540);
  CHECK(p.window_to_min == 1200);
  CHECK(p.window_days == 0x1f);
  CHECK(p.start_at_ms == 0);
  CHECK(to_json(p) == policy_json());
  CHECK(policy_json()["window"]["days"] == json::array({1, 2, 3, 4, 5}));
  CampaignPolicy none;
  CHECK(campaign_policy_from_json(to_json(none)).has_window() == false);
  CHECK(to_json(campaign_policy_from_json(to_json(none))) == to_json(none));
}

TEST_CASE(
    "calls view: the campaigns projection and the do-not-call list, and a rebuild gives the same dump") {
  Log log;
  story(log);
  // The do-not-call list, interleaved: two added on the "dnc" stream, one removed, one opt-out by keypress.
  log.add(stream_prefix::dnc, t::dnc_added, {{"phone", kCat}, {"by", "ops"}, {"source", "csv"}}, 800000);
  log.add(stream_prefix::dnc, t::dnc_added, {{"phone", kBob}, {"by", "ops"}, {"source", "api"}}, 800100);
  log.add("call-FN3", t::opt_out_requested, {{"digits", "9"}, {"action", "opt_out"}, {"to", kAnn}}, 800200);
  log.add(stream_prefix::dnc, t::dnc_removed, {{"phone", kBob}, {"by", "ops"}}, 800300);

  Fold f;  // the campaign's own stream only, as the view folds it
  for (const Event& e : log.events())
    if (e.stream == kStream) f(e);

  test::TempDir dir;
  auto view = open_view(dir.sub("live"));
  REQUIRE(view->apply_batch(log.events()));
  CHECK(view->checkpoint() == log.events().size());

  auto campaign = view->find_campaign("CMtest");
  REQUIRE(campaign);
  CHECK(to_json(*campaign) == to_json(f.campaign));
  CHECK_FALSE(view->find_campaign("CMother"));
  REQUIRE(view->list_campaigns().size() == 1);

  auto contacts = view->campaign_contacts("CMtest", {});
  REQUIRE(contacts.size() == 3);
  for (std::uint32_t i = 0; i < 3; ++i) {
    CHECK(contacts[i].index == i);
    CHECK(to_json(contacts[i]) == to_json(f.contacts[i]));
  }
  ContactFilter confirmed;
  confirmed.state = cs::confirmed;
  auto only = view->campaign_contacts("CMtest", confirmed);
  REQUIRE(only.size() == 1);
  CHECK(only[0].phone == kAnn);
  ContactFilter page;
  page.after = 1;
  page.limit = 1;
  auto second = view->campaign_contacts("CMtest", page);
  REQUIRE(second.size() == 1);
  CHECK(second[0].index == 1);
  CHECK(view->campaign_contacts("CMother", {}).empty());
  std::size_t seen = 0;
  view->for_each_contact("CMtest", [&](const ContactRow&) { return ++seen < 2; });
  CHECK(seen == 2);

  auto cat = view->dnc_find(kCat);
  REQUIRE(cat);
  CHECK(cat->phone == kCat);
  CHECK(cat->source == "csv");
  CHECK(cat->by == "ops");
  CHECK(cat->since_ms == 800000);
  CHECK_FALSE(view->dnc_find(kBob));  // removed
  auto ann = view->dnc_find(kAnn);
  REQUIRE(ann);
  CHECK(ann->source == "keypress");
  CHECK(ann->since_ms == 800200);
  auto list = view->dnc_list();
  REQUIRE(list.size() == 2);
  CHECK(list[0].phone == kCat);  // "+1..." sorts before "+44..."
  CHECK(list[1].phone == kAnn);

  SECTION("rebuilt in one batch") {
    auto rebuilt = open_view(dir.sub("one"));
    REQUIRE(rebuilt->apply_batch(log.events()));
    CHECK(rebuilt->dump() == view->dump());
  }
  SECTION("rebuilt one event per commit (every row read back from the view between events)") {
    auto rebuilt = open_view(dir.sub("each"));
    for (const Event& e : log.events()) REQUIRE(rebuilt->apply_batch({e}));
    CHECK(rebuilt->dump() == view->dump());
  }
  SECTION("rebuilt in staged batches committed once, and reopened") {
    {
      auto rebuilt = open_view(dir.sub("staged"));
      std::vector<const Event*> a, b;
      for (const Event& e : log.events()) (e.seq <= 7 ? a : b).push_back(&e);
      REQUIRE(rebuilt->stage(a));
      REQUIRE(rebuilt->stage(b));
      REQUIRE(rebuilt->commit());
      CHECK(rebuilt->dump() == view->dump());
    }
    auto reopened = open_view(dir.sub("staged"));
    CHECK(reopened->dump() == view->dump());
    CHECK(to_json(*reopened->find_campaign("CMtest")) == to_json(f.campaign));
  }
}

TEST_CASE("calls view: what is staged for a campaign is seen only after commit") {
  Log log;
  story(log);
  test::TempDir dir;
  auto view = open_view(dir.sub("views"));
  std::vector<const Event*> first;
  for (int k = 0; k < 4; ++k) first.push_back(&log.events()[k]);
  REQUIRE(view->stage(first));
  CHECK_FALSE(view->find_campaign("CMtest"));
  REQUIRE(view->commit());
  auto row = view->find_campaign("CMtest");
  REQUIRE(row);
  CHECK(row->counts.at(cs::in_flight) == 1);
  CHECK(row->counts.at(cs::pending) == 2);
  CHECK(view->campaign_contacts("CMtest", {})[0].state == cs::in_flight);
}
