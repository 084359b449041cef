// ask(): a CAF request/response made from code that is not an actor (the HTTP edge's handlers, which run
// on RESTinio's io threads).
//
// Contract: sends `request...` to `dest` as a request from a short-lived actor of its own, and runs
// `on_reply` with the response, or `on_error` with the error (the receiver is gone, or `timeout` passed),
// exactly once, on a thread of the actor system. Both must be callable from any thread and must not block
// for long (they answer the HTTP request, which RESTinio hands to its own thread). The cost is one actor
// spawn per request: for starts and controls, not for the webhook path.
//
// Thread-safety: any thread.
#pragma once

#include <utility>

#include <caf/all.hpp>

namespace voxlog {

template <class Handle, class OnReply, class OnError, class... Ts>
void ask(const Handle& dest, caf::duration timeout, OnReply on_reply, OnError on_error, Ts... request) {
  auto& system = caf::actor_cast<caf::abstract_actor*>(dest)->home_system();
  // The destination and the request travel as spawn arguments, never none: CAF 0.17 binds a reference to a
  // null pointer for a function actor spawned without arguments (UBSan stops the sanitized build on it).
  system.spawn(
      [on_reply = std::move(on_reply), on_error = std::move(on_error)](
          caf::event_based_actor* self, Handle to, caf::duration limit, Ts... xs) mutable {
        self->request(to, limit, std::move(xs)...).then(std::move(on_reply), std::move(on_error));
      },
      dest, timeout, std::move(request)...);
}

}  // namespace voxlog
