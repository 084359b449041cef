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

#include <tuple>
#include <utility>

#include <caf/all.hpp>

namespace voxlog {

template <class Handle, class OnReply, class OnError, class... Ts>
void ask(const Handle& dest, caf::duration timeout, OnReply on_reply, OnError on_error, Ts... request) {
  auto& system = caf::actor_cast<caf::abstract_actor*>(dest)->home_system();
  system.spawn([dest, timeout, on_reply = std::move(on_reply), on_error = std::move(on_error),
                request = std::make_tuple(std::move(request)...)](caf::event_based_actor* self) mutable {
    std::apply(
        [&](auto&... xs) {
          self->request(dest, timeout, std::move(xs)...).then(std::move(on_reply), std::move(on_error));
        },
        request);
  });
}

}  // namespace voxlog
