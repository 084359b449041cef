// FakeStudio: a scripted stand-in for the Twilio Studio v2 REST API, served by RESTinio on 127.0.0.1.
//
// Contract: for tests of StudioClient and `voxlog flow deploy` only. Unscripted requests get a plausible
// Studio answer from a small in-memory model (executions with one active per contact, flows with
// revisions, pagination by PageSize/Page with absolute next_page_url on studio.twilio.com). A test can queue
// Replies per route to inject errors, 429s, 5xx or a hang (the request is held and never answered, so the
// client times out after it was sent). Every request is recorded for assertions.
// Routes: "create", "list", "fetch", "end", "validate", "create_flow", "update_flow".
//
// Thread-safety: the server runs on its own thread; every public method may be called from the test thread
// while requests are served.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace voxlog::testing {

// The only flow whose executions the fake serves.
inline constexpr const char* kFakeFlowSid = "FW00000000000000000000000000000001";

struct Reply {
  int status = 200;
  std::string body;         // sent as application/json
  bool apply = false;       // also perform the route's normal effect first (e.g. create the execution)
  bool hang = false;        // never answer
  std::string retry_after;  // Retry-After header value when not empty
};

// Answer with `status` and `body` instead of the model.
inline Reply respond(int status, std::string body) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Perform the route's normal effect, then never answer: the client's request is lost after it was processed.
inline Reply processed_then_silent() {
  Reply r;
  r.apply = true;
  r.hang = true;
  return r;
}

struct RecordedRequest {
  std::string route, method, path, query, authorization;
  std::map<std::string, std::string> form;
};

class FakeStudio {
 public:
  FakeStudio();  // listens on a free port in 43000-43999
  ~FakeStudio();
  FakeStudio(const FakeStudio&) = delete;
  FakeStudio& operator=(const FakeStudio&) = delete;

  std::string base_url() const;  // http://127.0.0.1:PORT
  void script(const std::string& route, Reply reply);
  int count(const std::string& route) const;  // requests received on the route, scripted or not
  int executions_created() const;             // executions that exist because of a create
  std::vector<RecordedRequest> requests() const;
  // Adds an execution as if created earlier by someone else; returns its sid.
  std::string add_execution(const std::string& contact, const std::string& status,
                            const std::string& date_created);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace voxlog::testing
