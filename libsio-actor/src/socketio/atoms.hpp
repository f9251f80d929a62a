// Messages between the Socket.IO actors (all local to one node).
#pragma once

#include <set>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "socketio/packet.hpp"
#include "sio/connect_error.hpp"
#include "sio/event.hpp"
#include "sio/json.hpp"
#include "sio/socket_ref.hpp"

namespace sio::socketio {

// session actor -> socket actor
using client_packet_atom = caf::atom_constant<caf::atom("sio_pkt")>;
using engine_closed_atom = caf::atom_constant<caf::atom("sio_eclose")>;
// socket actor -> session actor
using socket_connected_atom = caf::atom_constant<caf::atom("sio_conn")>;
using socket_gone_atom = caf::atom_constant<caf::atom("sio_gone")>;
using connect_timeout_atom = caf::atom_constant<caf::atom("sio_connto")>;
// anyone -> socket actor (socket_ref, bulk operations); join / leave also
// socket actor -> adapter (socketio/adapter.hpp, with the socket's id)
using emit_atom = caf::atom_constant<caf::atom("sio_emit")>;
// (event, args as MessagePack, timeout) -> (error, ack args as MessagePack):
// socket_ref::emit_with_ack, maybe from another node (strings only: nothing
// to register for the cluster)
using emit_ack_atom = caf::atom_constant<caf::atom("sio_emitak")>;
using join_atom = caf::atom_constant<caf::atom("sio_join")>;
using leave_atom = caf::atom_constant<caf::atom("sio_leave")>;
using disconnect_atom = caf::atom_constant<caf::atom("sio_disc")>;
using fetch_atom = caf::atom_constant<caf::atom("sio_fetch")>;
using ack_request_atom = caf::atom_constant<caf::atom("sio_ackreq")>;
using ack_timeout_atom = caf::atom_constant<caf::atom("sio_ackto")>;
using middleware_next_atom = caf::atom_constant<caf::atom("sio_mwnext")>;
using packet_middleware_next_atom = caf::atom_constant<caf::atom("sio_pmwnxt")>;

} // namespace sio::socketio

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::json)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::socketio::packet)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::remote_socket)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::set<std::string>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<sio::connect_error>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<sio::event>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<std::string>)
