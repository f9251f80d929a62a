// Running request/response work in an actor: the caller's own, or a
// short-lived helper when the caller is not an actor.
#pragma once

#include <functional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace sio::socketio {

/// Runs `work` in `self`, or in a helper actor when `self` is null; the helper
/// ends once its requests are answered.
inline void run_in_actor(caf::actor_system& sys, caf::event_based_actor* self,
                         std::function<void(caf::event_based_actor*)> work) {
  if (self) {
    work(self);
    return;
  }
  // The work is a spawn argument, not a capture: CAF 0.17 dereferences a null
  // argument tuple for function-based actors spawned without one (UBSan).
  sys.spawn(
    [](caf::event_based_actor* helper, const std::function<void(caf::event_based_actor*)>& w) {
      w(helper);
    },
    std::move(work));
}

} // namespace sio::socketio
