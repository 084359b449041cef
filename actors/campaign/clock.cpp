#include "actors/campaign/clock.hpp"

#include <algorithm>
#include <cmath>

#include "eventstore/event.hpp"

namespace voxlog {

CampaignClock::CampaignClock(double scale, std::int64_t start_ms, std::int64_t anchor_ms)
    : scale_(scale > 0 ? scale : 1), start_ms_(start_ms), anchor_ms_(anchor_ms) {
  if (!start_ms_) start_ms_ = anchor_ms_;
}

std::int64_t CampaignClock::now_ms() const {
  std::int64_t wall = voxlog::now_ms();
  if (scale_ == 1 && start_ms_ == anchor_ms_) return wall;
  return start_ms_ + static_cast<std::int64_t>(std::llround(static_cast<double>(wall - anchor_ms_) * scale_));
}

std::chrono::milliseconds CampaignClock::wall_delay(std::int64_t campaign_ms) const {
  if (campaign_ms <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(std::ceil(static_cast<double>(campaign_ms) / scale_)));
}

}  // namespace voxlog
