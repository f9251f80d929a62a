// Asking a namespace's adapter for acks (a broadcast's or the other servers')
// and handing the answers to the application as one broadcast_ack_result.
#pragma once

#include <chrono>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "sio/ack.hpp"
#include "socketio/adapter.hpp"
#include "socketio/run_in_actor.hpp"

namespace sio::socketio {

/// The adapter answers within the operation's timeout (a cluster adapter
/// within the cluster actor's bound of the other members plus a second);
/// this bound on the request to it is only a backstop.
constexpr auto adapter_margin = std::chrono::seconds{2};

/// Sends `request...` (answered with (answers, all answered)) to `adapter`
/// from `in`, or from a helper actor when `in` is null, and calls `done` with
/// the answers, or Node's timeout error with those that arrived.
template <class... Ts>
void request_acks(caf::actor_system& sys, caf::event_based_actor* in, adapter_actor adapter,
                  std::chrono::milliseconds timeout, broadcast_ack_callback done,
                  Ts... request) {
  run_in_actor(sys, in, [=](caf::event_based_actor* self) {
    self->request(adapter, timeout + adapter_margin, request...)
      .then(
        [=](std::vector<json>& answers, bool all_answered) {
          if (done)
            done(broadcast_ack_result{all_answered ? "" : "operation has timed out",
                                      std::move(answers)});
        },
        [=](caf::error&) {
          if (done)
            done(broadcast_ack_result{"operation has timed out", {}});
        });
  });
}

} // namespace sio::socketio
