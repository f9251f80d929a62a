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

/// Which sockets a broadcast or a bulk operation is for.
struct broadcast_target {
  std::set<std::string> rooms;  // empty: the whole namespace
  std::set<std::string> except; // rooms (socket ids included) left out
  bool is_volatile = false;
};

// session actor -> socket actor
using client_packet_atom = caf::atom_constant<caf::atom("sio_pkt")>;
using engine_closed_atom = caf::atom_constant<caf::atom("sio_eclose")>;
// socket actor -> session actor
using socket_connected_atom = caf::atom_constant<caf::atom("sio_conn")>;
using socket_gone_atom = caf::atom_constant<caf::atom("sio_gone")>;
using connect_timeout_atom = caf::atom_constant<caf::atom("sio_connto")>;
// anyone -> socket actor (socket_ref, bulk operations)
using emit_atom = caf::atom_constant<caf::atom("sio_emit")>;
using join_atom = caf::atom_constant<caf::atom("sio_join")>;
using leave_atom = caf::atom_constant<caf::atom("sio_leave")>;
using disconnect_atom = caf::atom_constant<caf::atom("sio_disc")>;
using fetch_atom = caf::atom_constant<caf::atom("sio_fetch")>;
using ack_request_atom = caf::atom_constant<caf::atom("sio_ackreq")>;
using ack_timeout_atom = caf::atom_constant<caf::atom("sio_ackto")>;
using middleware_next_atom = caf::atom_constant<caf::atom("sio_mwnext")>;
using packet_middleware_next_atom = caf::atom_constant<caf::atom("sio_pmwnxt")>;
// -> adapter actor
using add_atom = caf::atom_constant<caf::atom("sio_add")>;
using remove_atom = caf::atom_constant<caf::atom("sio_remove")>;
using broadcast_atom = caf::atom_constant<caf::atom("sio_bcast")>;
using select_atom = caf::atom_constant<caf::atom("sio_select")>;
using sockets_join_atom = caf::atom_constant<caf::atom("sio_sjoin")>;
using sockets_leave_atom = caf::atom_constant<caf::atom("sio_sleave")>;
using disconnect_sockets_atom = caf::atom_constant<caf::atom("sio_sdisc")>;

} // namespace sio::socketio

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::json)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::socketio::packet)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::socketio::broadcast_target)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::remote_socket)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::set<std::string>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<sio::connect_error>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<sio::event>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<std::string>)
