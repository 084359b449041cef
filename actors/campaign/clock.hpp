// CampaignClock: the time campaign decisions are made in (calling windows, retry spacing, start_at).
//
// Contract: now_ms() is `start_ms + (wall - anchor_ms) * scale`: real time by default (scale 1, no start),
// or, for tests and rehearsals, a time that starts at CLOCK_START when the wall clock reads CLOCK_ANCHOR_MS
// (default: when the process started) and runs CLOCK_SCALE times faster. Anchored to the wall clock, it
// goes on where it was after a restart with the same settings, so timers re-armed from the log fire when
// they should. wall_delay() turns a span of campaign time into the real time to wait for it. Call pacing
// (calls per second) is real time: it is Twilio's limit, not the calendar's.
//
// Thread-safety: immutable after construction; any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace voxlog {

class CampaignClock {
 public:
  CampaignClock() = default;  // real time
  CampaignClock(double scale, std::int64_t start_ms, std::int64_t anchor_ms);

  std::int64_t now_ms() const;
  std::chrono::milliseconds wall_delay(std::int64_t campaign_ms) const;
  double scale() const { return scale_; }

 private:
  double scale_ = 1;
  std::int64_t start_ms_ = 0;   // campaign time at anchor_ms_ (0: the wall clock's own)
  std::int64_t anchor_ms_ = 0;  // wall-clock epoch ms
};

}  // namespace voxlog
