// The actor of one named room on one node (sio/room.hpp is the application's
// view of it). The adapter's room index spawns it at the room's first member
// on this node and tells it every join and leave; on the last leave it sends
// delete and forgets it, and the actor ends. It stands beside the delivery
// path: the adapter enqueues each broadcast into the sessions itself and, in
// addition, the same caf::message into the actor of each named room in the
// target (docs/architecture.md, "Room actors").
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

namespace sio::socketio {

struct namespace_state;

// adapter -> room actor. Besides these it gets each broadcast's message
// (engineio::send_atom, packets, is_volatile) and (room_app_atom, message)
// (socketio/adapter.hpp).
/// (room_join_atom, socket id, session actor)
using room_join_atom = caf::atom_constant<caf::atom("sio_rjoin")>;
/// (room_leave_atom, socket id)
using room_leave_atom = caf::atom_constant<caf::atom("sio_rleave")>;
/// (room_delete_atom): the last member left; the actor ends.
using room_delete_atom = caf::atom_constant<caf::atom("sio_rdel")>;

/// The actor of room `room` of namespace `ns`; it runs the namespace's
/// matching on_room setups at once and ends when `adapter` does.
caf::actor spawn_room_actor(caf::actor_system& sys, std::weak_ptr<namespace_state> ns,
                            std::string nsp, std::string room, caf::actor adapter);

} // namespace sio::socketio
