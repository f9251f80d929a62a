// The adapter protocol: everything a namespace's adapter does, as one typed
// actor interface. Operators and sockets talk to `namespace_state::adapter`
// only; whether it is the local adapter (socketio/local_adapter.hpp) or the
// cluster adapter (cluster/cluster_adapter.hpp) is the server's choice.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/replies_to.hpp>
#include <caf/timestamp.hpp>
#include <caf/typed_actor.hpp>

#include "sio/json.hpp"
#include "sio/socket_ref.hpp"
#include "socketio/atoms.hpp"
#include "socketio/recovery_log.hpp"

namespace sio::socketio {

/// Which sockets a broadcast or a bulk operation is for.
struct broadcast_target {
  std::set<std::string> rooms;  // empty: the whole namespace
  std::set<std::string> except; // rooms (socket ids included) left out
  bool is_volatile = false;
  /// Only this node's sockets: set by broadcast_operator::local(), and by the
  /// cluster actor for a request that came from another node.
  bool local = false;
};

/// A broadcast whose recipients acknowledge. The adapter encodes it: ack ids
/// are per namespace and per node, so each node encodes with an id of its own.
struct ack_emit {
  std::string event;
  json args; // an array
  /// How long each socket may take; the answer comes within it.
  std::chrono::milliseconds timeout{0};
};

/// An event the adapter encodes itself: with connection state recovery on,
/// it appends this node's offset and keeps the packets for replay (Node's
/// SessionAwareAdapter.broadcast). Used for events without ack that are not
/// volatile; socket.emit() takes this path too, as in Node.
struct event_emit {
  std::string event;
  json args; // an array
  /// Where the event started and its number there; empty: on this node, now.
  std::string origin;
  std::uint64_t seq = 0;
};

/// An event for the namespace's server-side handlers (Node's serverSideEmit).
struct server_side_event {
  std::string event;
  json args; // an array
  /// With ack: how long each other server may take.
  std::chrono::milliseconds timeout{0};
  /// From another node: run this node's handler (an emit never reaches its own node).
  bool local = false;
};

using add_atom = caf::atom_constant<caf::atom("sio_add")>;
using remove_atom = caf::atom_constant<caf::atom("sio_remove")>;
using broadcast_atom = caf::atom_constant<caf::atom("sio_bcast")>;
using broadcast_ack_atom = caf::atom_constant<caf::atom("sio_bcack")>;
using fetch_sockets_atom = caf::atom_constant<caf::atom("sio_fetchs")>;
using sockets_join_atom = caf::atom_constant<caf::atom("sio_sjoin")>;
using sockets_leave_atom = caf::atom_constant<caf::atom("sio_sleave")>;
using disconnect_sockets_atom = caf::atom_constant<caf::atom("sio_sdisc")>;
using rooms_atom = caf::atom_constant<caf::atom("sio_rooms")>;
using server_emit_atom = caf::atom_constant<caf::atom("sio_semit")>;
using server_emit_ack_atom = caf::atom_constant<caf::atom("sio_semack")>;
using server_count_atom = caf::atom_constant<caf::atom("sio_scount")>;
using room_size_atom = caf::atom_constant<caf::atom("sio_rsize")>;
using room_members_atom = caf::atom_constant<caf::atom("sio_rmembs")>;
using room_app_atom = caf::atom_constant<caf::atom("sio_rapp")>;
using emit_event_atom = caf::atom_constant<caf::atom("sio_emitev")>;
using persist_atom = caf::atom_constant<caf::atom("sio_persis")>;
using restore_atom = caf::atom_constant<caf::atom("sio_restor")>;
using add_recovered_atom = caf::atom_constant<caf::atom("sio_addrec")>;
using hand_over_atom = caf::atom_constant<caf::atom("sio_handov")>;
using checkpoint_atom = caf::atom_constant<caf::atom("sio_chkpt")>;
using forget_atom = caf::atom_constant<caf::atom("sio_forget")>;
using replica_atom = caf::atom_constant<caf::atom("sio_replic")>;
using owner_gone_atom = caf::atom_constant<caf::atom("sio_ownrgn")>;
using sync_replicas_atom = caf::atom_constant<caf::atom("sio_syncr")>;
using flush_atom = caf::atom_constant<caf::atom("sio_flush")>;
using take_replica_atom = caf::atom_constant<caf::atom("sio_takerp")>;
using relay_atom = caf::atom_constant<caf::atom("sio_relay")>;

/// One namespace's adapter. Answer a vector<json> through a response promise's
/// deliver(), never `return {answers, ...}`: caf::result brace-initialises
/// each element type, and vector<json>{answers} is a vector of one JSON array.
///
/// Requests with a target span the cluster unless
/// `target.local` is set; "answers" are each client's (or server's) first
/// ack argument, in arrival order, and "all answered" is false when one did
/// not answer in time ("operation has timed out"; a socket that left counts
/// as no answer, not as a timeout).
using adapter_actor = caf::typed_actor<
  // (id, socket actor, session actor): a socket connected; it is in its own id's room.
  caf::reacts_to<add_atom, std::string, caf::actor, caf::actor>,
  // (id): the socket left; it leaves every room.
  caf::reacts_to<remove_atom, std::string>,
  // (id, rooms) / (id, room): the socket joined / left rooms.
  caf::reacts_to<join_atom, std::string, std::vector<std::string>>,
  caf::reacts_to<leave_atom, std::string, std::string>,
  // (target, message): the encoded broadcast, the same caf::message for every
  // recipient session: (engineio::send_atom, vector<packet_ptr>, is_volatile).
  caf::reacts_to<broadcast_atom, broadcast_target, caf::message>,
  // (target, event): encoded here (see event_emit).
  caf::reacts_to<emit_event_atom, broadcast_target, event_emit>,
  // Connection state recovery (socketio/recovery_log.hpp): a socket that
  // left for a recoverable reason; (pid, offset) -> its state, if it can be
  // restored (in a cluster also from the node that has it); hand_over: the
  // same for another node, with the events only this node delivered;
  // (socket, session, state, offset): a restored socket connected: it gets
  // the events it missed, then it is in its rooms.
  caf::reacts_to<persist_atom, persisted_session>,
  caf::replies_to<restore_atom, std::string, std::string>::with<std::optional<persisted_session>>,
  caf::replies_to<hand_over_atom, std::string, std::string>::with<
    std::optional<persisted_session>>,
  caf::reacts_to<add_recovered_atom, caf::actor, caf::actor, persisted_session, std::string>,
  // Recovery when a node dies (cluster adapter; the local adapter ignores
  // them): a connected socket's state, after each change, for the other
  // nodes to keep (replicas); (pid, generation): the socket left for good;
  // (state, owner address, kind): another node's socket, from the cluster
  // actor; (owner): that member is gone, its replicas become restorable;
  // (member): it just joined, send it every connected socket's state;
  // flush -> true once all sent to other nodes reached them (a stopping node).
  caf::reacts_to<checkpoint_atom, persisted_session>,
  caf::reacts_to<forget_atom, std::string, std::uint64_t>,
  caf::reacts_to<replica_atom, persisted_session, std::string, replica_kind>,
  caf::reacts_to<owner_gone_atom, std::string>,
  caf::reacts_to<sync_replicas_atom, std::string>,
  caf::replies_to<flush_atom>::with<bool>,
  // (pid, offset) -> the replica kept here, if restorable, for another node
  // whose client's node is gone (and that had no copy itself).
  caf::replies_to<take_replica_atom, std::string, std::string>::with<
    std::optional<persisted_session>>,
  // (session, message): with recovery on, all a socket writes takes this
  // path, so its own events (numbered here) and the rest stay in order.
  caf::reacts_to<relay_atom, caf::actor, caf::message>,
  caf::replies_to<broadcast_ack_atom, broadcast_target, ack_emit>::with<std::vector<json>, bool>,
  // (target, how long each socket may take) -> the matching sockets.
  caf::replies_to<fetch_sockets_atom, broadcast_target, caf::timespan>::with<
    std::vector<remote_socket>>,
  caf::reacts_to<sockets_join_atom, broadcast_target, std::vector<std::string>>,
  caf::reacts_to<sockets_leave_atom, broadcast_target, std::vector<std::string>>,
  // (target, close): close = true ends each socket's whole connection.
  caf::reacts_to<disconnect_sockets_atom, broadcast_target, bool>,
  // This node's rooms (socket id rooms included) and how many sockets each has.
  caf::replies_to<rooms_atom>::with<std::map<std::string, std::size_t>>,
  caf::reacts_to<server_emit_atom, server_side_event>,
  caf::replies_to<server_emit_ack_atom, server_side_event>::with<std::vector<json>, bool>,
  // Nodes serving the namespace, this one included.
  caf::replies_to<server_count_atom>::with<std::size_t>,
  // (room): this node's members of the room, from the index (sio::room_ref).
  caf::replies_to<room_size_atom, std::string>::with<std::size_t>,
  caf::replies_to<room_members_atom, std::string>::with<std::vector<std::string>>,
  // (room, message): to the room's actor on this node, as (room_app_atom,
  // message); dropped when the room has no member here.
  caf::reacts_to<room_app_atom, std::string, caf::message>>;

} // namespace sio::socketio

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::socketio::broadcast_target)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::socketio::ack_emit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::socketio::server_side_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::socketio::event_emit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::socketio::persisted_session)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::socketio::replica_kind)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<sio::socketio::persisted_session>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<sio::json>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<sio::remote_socket>)
