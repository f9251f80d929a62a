// The adapter of one namespace: which socket is in which room, and delivery
// of broadcasts. It fans out every broadcast itself (one encoded message
// shared by all recipients): a single path from a sender to each session is
// what keeps broadcasts in order (see docs/architecture.md).
#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace sio::socketio {

/// `nsp` names the namespace in diagnostics.
caf::actor spawn_adapter(caf::actor_system& sys, const std::string& nsp);

} // namespace sio::socketio
