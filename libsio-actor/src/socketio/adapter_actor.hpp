// The adapter of one namespace: which socket is in which room, and delivery
// of broadcasts. Fan-out to a single named room is delegated to that room's
// actor, so big rooms are served in parallel with the rest.
#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace sio::socketio {

/// `nsp` names the namespace in diagnostics.
caf::actor spawn_adapter(caf::actor_system& sys, const std::string& nsp);

} // namespace sio::socketio
