// judge_attempt / decide_turn / call_parameters (actors/campaign/campaign_rules.hpp): what an ended attempt
// means for a contact, what a contact whose turn came gets, and what its execution is told.
#include <catch2/catch.hpp>

#include <string>

#include "actors/campaign/calling_window.hpp"
#include "actors/campaign/campaign_rules.hpp"
#include "tests/actors/campaign/test_time.hpp"

using namespace voxlog;
using nlohmann::json;
using test::utc_ms;
namespace cs = contact_state;

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

CampaignPolicy three_attempts(std::vector<std::string> retry_on = {"busy", "no-answer", "failed"}) {
  CampaignPolicy p;
  p.max_attempts = 3;
  p.retry_spacing_s = 600;
  p.retry_on = std::move(retry_on);
  return p;
}

ContactRow contact(std::vector<std::string> zones, json fields = json::object()) {
  ContactRow c;
  c.index = 4;
  c.phone = "+447400123456";
  c.zones = std::move(zones);
  c.fields = std::move(fields);
  return c;
}

}  // namespace

TEST_CASE("judge_attempt: an outcome the callee chose is final, whatever attempts remain") {
  CampaignPolicy p = three_attempts({"busy", "no-answer", "failed", "canceled", "machine", "no-outcome"});
  CHECK(judge_attempt(p, 1, "completed", "confirmed", kNow).result == cs::confirmed);
  CHECK(judge_attempt(p, 1, "completed", "cancelled", kNow).result == cs::cancelled);
  CHECK(judge_attempt(p, 1, "completed", "voicemail", kNow).result == cs::voicemail);
  CHECK(judge_attempt(p, 1, "completed", "opted-out", kNow).result == cs::opted_out);
  CHECK(judge_attempt(p, 1, "completed", "confirmed", kNow).retry_at == 0);
}

TEST_CASE("judge_attempt: busy is retried only when retry_on names it and attempts remain") {
  AttemptVerdict v = judge_attempt(three_attempts(), 1, "busy", "busy", kNow);
  CHECK(v.result == cs::retry_scheduled);
  CHECK(v.retry_at == kNow + 600 * 1000);
  CHECK(judge_attempt(three_attempts(), 2, "busy", "busy", kNow).result == cs::retry_scheduled);
  CHECK(judge_attempt(three_attempts(), 3, "busy", "busy", kNow).result == cs::unreachable);  // exhausted
  CHECK(judge_attempt(three_attempts({"no-answer"}), 1, "busy", "busy", kNow).result == cs::unreachable);
  CHECK(judge_attempt(three_attempts({"no-answer"}), 1, "busy", "busy", kNow).retry_at == 0);
  CampaignPolicy once;  // max_attempts 1: never a retry
  CHECK(judge_attempt(once, 1, "busy", "busy", kNow).result == cs::unreachable);
  // The status speaks when the row has no outcome.
  CHECK(judge_attempt(three_attempts(), 1, "busy", "", kNow).result == cs::retry_scheduled);
}

TEST_CASE(
    "judge_attempt: attempts exhausted: unreachable for busy, no-answer, failed, canceled, no_outcome else") {
  CampaignPolicy p = three_attempts({"busy", "no-answer", "failed", "canceled", "machine", "no-outcome"});
  for (const char* why : {"busy", "no-answer", "failed", "canceled"}) {
    INFO(why);
    CHECK(judge_attempt(p, 3, why, why, kNow).result == cs::unreachable);
    CHECK(judge_attempt(p, 3, why, "", kNow).result == cs::unreachable);
    CHECK(judge_attempt(p, 2, why, why, kNow).result == cs::retry_scheduled);
  }
  CHECK(judge_attempt(p, 3, "completed", "machine", kNow).result == cs::no_outcome);
  CHECK(judge_attempt(p, 3, "completed", "", kNow).result == cs::no_outcome);
  CHECK(judge_attempt(p, 3, "unknown", "", kNow).result == cs::no_outcome);
}

TEST_CASE("judge_attempt: an answered call where nobody chose is no-outcome, retried only when named") {
  CHECK(judge_attempt(three_attempts(), 1, "completed", "", kNow).result == cs::no_outcome);
  CHECK(judge_attempt(three_attempts(), 1, "", "", kNow).result == cs::no_outcome);
  AttemptVerdict v = judge_attempt(three_attempts({"no-outcome"}), 1, "completed", "", kNow);
  CHECK(v.result == cs::retry_scheduled);
  CHECK(v.retry_at == kNow + 600'000);
  CHECK(judge_attempt(three_attempts({"no-outcome"}), 1, "", "", kNow).result == cs::retry_scheduled);
  // A machine answered: retried only with "machine" in retry_on, and never unreachable.
  CHECK(judge_attempt(three_attempts(), 1, "completed", "machine", kNow).result == cs::no_outcome);
  CHECK(judge_attempt(three_attempts({"machine"}), 1, "completed", "machine", kNow).result ==
        cs::retry_scheduled);
}

TEST_CASE("judge_attempt: the spacing is the policy's, in seconds") {
  CampaignPolicy p = three_attempts();
  p.retry_spacing_s = 30LL * 24 * 3600;
  CHECK(judge_attempt(p, 1, "no-answer", "no-answer", kNow).retry_at == kNow + 30LL * 24 * 3600 * 1000);
}

TEST_CASE("decide_turn: do-not-call skips, outside the window defers until it opens, else dial") {
  CampaignPolicy p;
  p.window_from_min = 9 * 60;
  p.window_to_min = 20 * 60;
  ContactRow c = contact({"Europe/London"});

  TurnDecision dnc = decide_turn(p, c, true, utc_ms(2026, 12, 7, 3));  // skipped even when closed
  CHECK(dnc.kind == TurnDecision::Kind::skip);
  CHECK(dnc.reason == "do_not_call");
  CHECK(decide_turn(p, c, true, utc_ms(2026, 12, 7, 12)).kind == TurnDecision::Kind::skip);

  TurnDecision early = decide_turn(p, c, false, utc_ms(2026, 12, 7, 8, 59));
  CHECK(early.kind == TurnDecision::Kind::defer);
  CHECK(early.reason == "window");
  CHECK(early.until == utc_ms(2026, 12, 7, 9));
  CHECK(early.until == next_opening(p, c.zones, utc_ms(2026, 12, 7, 8, 59)));

  TurnDecision ny = decide_turn(p, contact({"America/New_York"}), false, utc_ms(2026, 12, 7, 9));
  CHECK(ny.kind == TurnDecision::Kind::defer);
  CHECK(ny.until == utc_ms(2026, 12, 7, 14));

  TurnDecision open = decide_turn(p, c, false, utc_ms(2026, 12, 7, 9));
  CHECK(open.kind == TurnDecision::Kind::dial);
  CHECK(open.reason.empty());

  CampaignPolicy always;
  CHECK(decide_turn(always, c, false, utc_ms(2026, 12, 7, 3)).kind == TurnDecision::Kind::dial);
}

TEST_CASE("call_parameters: the contact's columns, its appointment in its own zone, campaign_id, attempt") {
  json fields = {{"name", "Ann"},
                 {"clinic", "North"},
                 {"appointment_at", "2026-12-08T14:30:00Z"},
                 {"campaign_id", "forged"},
                 {"count", 5}};
  json p = call_parameters("CMtest", contact({"America/New_York"}, fields), 2);
  CHECK(p == json{{"name", "Ann"},
                  {"clinic", "North"},
                  {"appointment_at", "2026-12-08T14:30:00Z"},
                  {"appointment_day", "Tuesday 8 December"},
                  {"appointment_time", "09:30"},
                  {"campaign_id", "CMtest"},
                  {"attempt", "2"}});

  // A region: its first zone (GB has one).
  json gb =
      call_parameters("CMtest", contact({"region:GB"}, {{"appointment_at", "2026-12-08T14:30:00Z"}}), 1);
  CHECK(gb["appointment_day"] == "Tuesday 8 December");
  CHECK(gb["appointment_time"] == "14:30");
  CHECK(gb["attempt"] == "1");

  // A local time is the callee's.
  json local =
      call_parameters("CMtest", contact({"America/New_York"}, {{"appointment_at", "2026-12-08 14:30"}}), 1);
  CHECK(local["appointment_time"] == "14:30");

  // No appointment, or one that does not parse: no words.
  json none = call_parameters("CMx", contact({"Europe/London"}, {{"name", "Bob"}}), 3);
  CHECK(none == json{{"name", "Bob"}, {"campaign_id", "CMx"}, {"attempt", "3"}});
  json bad = call_parameters("CMx", contact({"Europe/London"}, {{"appointment_at", "soon"}}), 1);
  CHECK_FALSE(bad.contains("appointment_day"));
  CHECK_FALSE(bad.contains("appointment_time"));
  CHECK(bad["appointment_at"] == "soon");
}

TEST_CASE("decide_control: one rule for pause, resume and cancel, whichever node applies it") {
  CampaignRow running;
  running.id = "CM1";
  running.state = "running";
  CampaignRow paused = running;
  paused.state = "paused";
  CampaignRow completed = running;
  completed.state = "completed";

  auto pause = decide_control(running, CampaignControl::pause, "ops");
  REQUIRE(pause.is_ok());
  REQUIRE(pause->has_value());
  CHECK((*pause)->type == "CampaignPaused");
  CHECK((*pause)->data["by"] == "ops");
  CHECK_FALSE(decide_control(paused, CampaignControl::pause, "ops")->has_value());  // nothing to change
  CHECK_FALSE(decide_control(running, CampaignControl::resume, "ops")->has_value());
  CHECK((*decide_control(paused, CampaignControl::resume, "ops"))->type == "CampaignResumed");
  CHECK((*decide_control(paused, CampaignControl::cancel, "ops"))->type == "CampaignCancelled");
  auto over = decide_control(completed, CampaignControl::cancel, "ops");
  REQUIRE_FALSE(over.is_ok());
  CHECK(over.status().code() == StatusCode::conflict);
  CHECK(over.status().message().find("completed") != std::string::npos);
}

TEST_CASE("report_of: the call widget's last status and the keys pressed, from Studio's Context") {
  json context = {
      {"widgets", {{"call_patient", {{"CallStatus", "in-progress"}}}, {"gather_choice", {{"Digits", "2"}}}}}};
  StudioReport answered = report_of(context);
  CHECK(answered.call_status == "completed");  // answered, and the execution ended: completed
  CHECK(answered.digits == "2");
  CHECK(report_of({{"widgets", {{"call_patient", {{"CallStatus", "busy"}}}}}}).call_status == "busy");
  StudioReport nothing = report_of(json::array());
  CHECK(nothing.call_status.empty());
  CHECK(nothing.digits.empty());
  CHECK(report_of({{"widgets", "not an object"}}).call_status.empty());
}
