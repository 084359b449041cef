// TWILIO_AUTH_TOKEN=... webhook_gen OUT URL CALLS [BLOCK]: writes the request file that webhook_post.lua
// replays with wrk. CALLS calls get their four status callbacks each (initiated, ringing, in-progress,
// completed; distinct CallSids, so every request is a new fact, never a duplicate). The calls go in blocks
// of BLOCK (default 2000): a block's initiated callbacks, then its ringing ones, and so on, so a call's
// callbacks arrive in order and thousands of requests apart, as they would from Twilio, and 64 connections
// never queue behind one call actor. Each line is "<X-Twilio-Signature> <form body>", signed for URL (the
// server's PUBLIC_URL plus the webhook path). Prints the count and mean body size on stdout.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/bench/webhook_form.hpp"

int main(int argc, char** argv) {
  const char* token_env = std::getenv("TWILIO_AUTH_TOKEN");  // not an argument: ps would show it
  if (argc < 4 || !token_env || !*token_env) {
    std::fprintf(stderr, "usage: TWILIO_AUTH_TOKEN=... webhook_gen OUT URL CALLS [BLOCK]\n");
    return 2;
  }
  const std::string out_path = argv[1];
  const std::string token = token_env;
  const std::string url = argv[2];
  const long calls = std::atol(argv[3]);
  const long block = argc > 4 ? std::atol(argv[4]) : 2000;
  if (calls <= 0 || block <= 0) {
    std::fprintf(stderr, "webhook_gen: CALLS and BLOCK must be positive numbers\n");
    return 2;
  }
  std::FILE* out = std::fopen(out_path.c_str(), "w");
  if (!out) {
    std::perror(("webhook_gen: " + out_path).c_str());
    return 1;
  }
  const std::string tag = voxlog::bench::random_run_tag();
  std::uint64_t lines = 0, body_bytes = 0;
  for (long first = 0; first < calls; first += block) {
    const long end = std::min(calls, first + block);
    for (int sequence = 0; sequence < 4; ++sequence) {
      for (long call = first; call < end; ++call) {
        auto params =
            voxlog::bench::status_callback(voxlog::bench::bench_call_sid(tag, call), sequence, call);
        auto form = voxlog::bench::signed_status_callback(token, url, params);
        std::fprintf(out, "%s %s\n", form.signature.c_str(), form.body.c_str());
        ++lines;
        body_bytes += form.body.size();
      }
    }
  }
  if (std::fclose(out) != 0) {
    std::perror(("webhook_gen: " + out_path).c_str());
    return 1;
  }
  std::printf("requests=%llu mean_body_bytes=%llu\n", static_cast<unsigned long long>(lines),
              static_cast<unsigned long long>(body_bytes / (lines ? lines : 1)));
  return 0;
}
