// reason_phrase(): the HTTP status line text for the statuses voxlog's servers send (voxlogd and the
// Twilio simulator). Thread-safety: pure function.
#pragma once

namespace voxlog {

const char* reason_phrase(int status);

}  // namespace voxlog
