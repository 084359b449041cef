#include "tools/bench/webhook_form.hpp"

#include <cstdio>
#include <ctime>
#include <random>

#include "tools/simulator/webhook_sender.hpp"

namespace voxlog::bench {

std::string bench_call_sid(std::string_view run_tag, std::uint64_t index) {
  char digits[17];
  std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(index));
  return "CA" + std::string(run_tag) + digits;
}

std::string random_run_tag() {
  std::random_device rd;
  char tag[17];
  std::snprintf(tag, sizeof tag, "%08x%08x", rd(), rd());
  return tag;
}

twilio::FormParams status_callback(const std::string& call_sid, int sequence, std::uint64_t callee) {
  static const char* statuses[] = {"initiated", "ringing", "in-progress", "completed"};
  const std::string to = "+447700" + std::to_string(900000 + callee % 100000);
  const std::string from = "+442071838750";
  char timestamp[64];
  std::time_t now = std::time(nullptr) + sequence * 7;
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(timestamp, sizeof timestamp, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  // Twilio's own order is arbitrary; empty geo fields (common for mobile numbers) are left out.
  twilio::FormParams form = {
      {"Called", to},
      {"CallerCountry", "GB"},
      {"Direction", "outbound-api"},
      {"Timestamp", timestamp},
      {"CallbackSource", "call-progress-events"},
      {"SequenceNumber", std::to_string(sequence)},
      {"CallSid", call_sid},
      {"To", to},
      {"ToCountry", "GB"},
      {"ApiVersion", "2010-04-01"},
      {"CallStatus", statuses[sequence & 3]},
      {"From", from},
      {"AccountSid", "AC0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
      {"CalledCountry", "GB"},
      {"Caller", from},
      {"FromCountry", "GB"},
      {"FromCity", "London"},
  };

  if ((sequence & 3) == 3) {
    form.push_back({"CallDuration", "49"});
    form.push_back({"Duration", "1"});
    form.push_back({"SipResponseCode", "200"});
  }
  return form;
}

SignedForm signed_status_callback(std::string_view auth_token, std::string_view url,
                                  const twilio::FormParams& params) {
  return {sim::form_encode(params), twilio::sign(auth_token, url, params)};
}

}  // namespace voxlog::bench
