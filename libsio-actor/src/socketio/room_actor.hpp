// One room: its members' sessions, and the fan-out of one pre-encoded
// message to all of them.
#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

namespace sio::socketio {

/// Spawned (linked) by the adapter that owns the room.
caf::actor spawn_room(caf::event_based_actor* adapter, const std::string& name);

} // namespace sio::socketio
