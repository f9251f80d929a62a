// The cluster adapter of one namespace: the local adapter's room index and
// fan-out (socketio/local_adapter.hpp) run inside this actor, and whatever is
// not `local` is relayed to the other members through this node's cluster
// actor, which gathers their answers. Operators and sockets see the same
// adapter protocol (socketio/adapter.hpp) as on a single node.
#pragma once

#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "socketio/adapter.hpp"

namespace sio::socketio {
struct namespace_state;
}

namespace sio::cluster {

/// The adapter of `ns` in a cluster whose node is `cluster` (its cluster actor).
socketio::adapter_actor spawn_cluster_adapter(caf::actor_system& sys,
                                              const std::shared_ptr<socketio::namespace_state>& ns,
                                              caf::actor cluster);

} // namespace sio::cluster
