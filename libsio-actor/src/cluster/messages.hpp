// What cluster nodes send each other. Every type here has inspect() and is
// registered on every node by sio::configure_cluster().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace sio::cluster {

struct member_info {
  std::string address; // "host:port" of its cluster actor
  caf::actor node;     // its cluster actor
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_info& x) {
  return f(caf::meta::type_name("sio_member_info"), x.address, x.node);
}

/// One Engine.IO packet of an encoded Socket.IO packet.
struct wire_packet {
  bool binary = false;
  std::string wire;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_packet& x) {
  return f(caf::meta::type_name("sio_wire_packet"), x.binary, x.wire);
}

/// Which sockets of a namespace a request is about, on each node.
struct selection {
  std::string nsp;
  std::vector<std::string> rooms;  // empty: the whole namespace
  std::vector<std::string> except; // rooms (socket ids included) left out
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, selection& x) {
  return f(caf::meta::type_name("sio_selection"), x.nsp, x.rooms, x.except);
}

/// A broadcast for the sockets of one namespace on another node.
struct remote_broadcast {
  selection sel;
  bool is_volatile = false;
  std::vector<wire_packet> packets;
  /// With connection state recovery, packets stay empty: each node encodes
  /// the event itself, with its own offset (socketio::event_emit).
  std::string event;
  std::string args; // MessagePack
  std::string origin;
  std::uint64_t seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_broadcast& x) {
  return f(caf::meta::type_name("sio_remote_broadcast"), x.sel, x.is_volatile, x.packets, x.event,
           x.args, x.origin, x.seq);
}

/// A socket of another node, as fetch_sockets returns it (JSON as MessagePack,
/// which keeps binary values).
struct socket_info {
  std::string id;
  std::map<std::string, std::string> headers;
  std::map<std::string, std::string> query;
  std::string address;
  std::string url;
  std::int64_t issued = 0;
  bool secure = false;
  std::string auth; // MessagePack
  std::vector<std::string> rooms;
  std::string data; // MessagePack
  caf::actor socket;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, socket_info& x) {
  return f(caf::meta::type_name("sio_socket_info"), x.id, x.headers, x.query, x.address, x.url,
           x.issued, x.secure, x.auth, x.rooms, x.data, x.socket);
}

/// An event for the other servers of a namespace (Node's serverSideEmit).
struct server_event {
  std::string nsp;
  std::string event;
  std::string args; // MessagePack of the argument array
  std::int64_t timeout_ms = 0; // with ack: how long each member may take
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_event& x) {
  return f(caf::meta::type_name("sio_server_event"), x.nsp, x.event, x.args, x.timeout_ms);
}

/// (server_emit_atom, server_event): to every other member, no answer.
using server_emit_atom = caf::atom_constant<caf::atom("sio_sse")>;
/// (serve_server_emit_atom, server_event): a member runs its handler.
using serve_server_emit_atom = caf::atom_constant<caf::atom("sio_ssse")>;
/// (server_emit_ack_atom, server_event) -> (vector<string> answers, bool all_answered):
/// one answer (MessagePack) per member that acknowledged in time.
using server_emit_ack_atom = caf::atom_constant<caf::atom("sio_sseack")>;
/// (serve_server_emit_ack_atom, server_event) -> string: a member's answer
/// (its handler's first ack argument, MessagePack).
using serve_server_emit_ack_atom = caf::atom_constant<caf::atom("sio_ssseak")>;

/// A broadcast with ack for the sockets of one namespace on the other nodes.
/// Each node encodes it with an ack id of its own (ids are per node).
struct ack_broadcast {
  selection sel;
  std::string event;
  std::string args; // MessagePack of the argument array
  std::int64_t timeout_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ack_broadcast& x) {
  return f(caf::meta::type_name("sio_ack_broadcast"), x.sel, x.event, x.args, x.timeout_ms);
}

/// (ack_broadcast_atom, ack_broadcast) -> (vector<string> answers, bool all_answered):
/// to the cluster actor, which asks every member; answers are MessagePack.
using ack_broadcast_atom = caf::atom_constant<caf::atom("sio_cbcack")>;
/// (serve_ack_broadcast_atom, ack_broadcast) -> (vector<string>, bool): a member's part.
using serve_ack_broadcast_atom = caf::atom_constant<caf::atom("sio_sbcack")>;

/// (cluster_fetch_atom, selection) -> vector<socket_info>: from this node to
/// the cluster actor, which asks every member and gathers their answers.
using cluster_fetch_atom = caf::atom_constant<caf::atom("sio_cfetch")>;
/// (serve_fetch_atom, selection) -> vector<socket_info>: a member's part of it.
using serve_fetch_atom = caf::atom_constant<caf::atom("sio_sfetch")>;
/// (cluster_join_atom, selection, rooms): make the matching sockets of every
/// other member join `rooms`; (serve_join_atom, selection, rooms): a member's part.
using cluster_join_atom = caf::atom_constant<caf::atom("sio_cjoin")>;
using serve_join_atom = caf::atom_constant<caf::atom("sio_rjoin")>;
/// (cluster_leave_atom, selection, rooms) / (serve_leave_atom, ...): the same for leaving.
using cluster_leave_atom = caf::atom_constant<caf::atom("sio_cleave")>;
using serve_leave_atom = caf::atom_constant<caf::atom("sio_rleave")>;
/// (cluster_disconnect_atom, selection, close) / (serve_disconnect_atom, ...):
/// disconnect the matching sockets (close: their whole connections).
using cluster_disconnect_atom = caf::atom_constant<caf::atom("sio_cdisc")>;
using serve_disconnect_atom = caf::atom_constant<caf::atom("sio_rdisc")>;

/// Connection state recovery: a replayable event of one node's log.
struct remote_event {
  std::string origin;
  std::uint64_t seq = 0;
  std::vector<wire_packet> packets;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_event& x) {
  return f(caf::meta::type_name("sio_remote_event"), x.origin, x.seq, x.packets);
}

/// A disconnected socket's state, handed over to the node its client came
/// back to (socketio::persisted_session; data as MessagePack).
struct remote_session {
  bool found = false;
  std::string pid;
  std::string sid;
  std::vector<std::string> rooms;
  std::string data;
  std::vector<remote_event> handed_events;
  std::uint64_t generation = 0;
  std::int64_t born_ms = 0;
  /// Set by the asking node's cluster actor: the owner is not a member, or
  /// did not answer (then a replica kept here may be restored).
  bool owner_gone = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_session& x) {
  return f(caf::meta::type_name("sio_remote_session"), x.found, x.pid, x.sid, x.rooms, x.data,
           x.handed_events, x.generation, x.born_ms, x.owner_gone);
}

/// A socket's state for the other members to keep in case its node dies
/// (socketio::recovery_log replicas). kind: socketio::replica_kind.
struct session_replica {
  std::string nsp;
  std::string owner; // the sending member's address (set by its cluster actor)
  std::uint8_t kind = 0;
  remote_session session;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_replica& x) {
  return f(caf::meta::type_name("sio_session_replica"), x.nsp, x.owner, x.kind, x.session);
}

/// (publish_replica_atom, session_replica, to): from this node's adapter, for
/// member `to` (empty: every member); (remote_replica_atom, session_replica):
/// from a member.
using publish_replica_atom = caf::atom_constant<caf::atom("sio_prepl")>;
using remote_replica_atom = caf::atom_constant<caf::atom("sio_rrepl")>;
/// (cluster_flush_atom) -> bool, local: true once every member answered a ping_atom
/// (so all this node sent before reached them) or left; bounded.
using cluster_flush_atom = caf::atom_constant<caf::atom("sio_cflush")>;
using ping_atom = caf::atom_constant<caf::atom("sio_ping")>;
/// (cluster_replica_atom, nsp, pid, offset) -> remote_session, local: asks
/// every member for its replica of `pid` (the socket's node is gone and this
/// node has none); (serve_replica_atom, nsp, pid, offset) -> remote_session:
/// a member's part. Each member drops its copy (a pid restores once).
using cluster_replica_atom = caf::atom_constant<caf::atom("sio_crepl")>;
using serve_replica_atom = caf::atom_constant<caf::atom("sio_srepl")>;

/// (cluster_restore_atom, nsp, pid, offset, owner) -> remote_session: from
/// this node's adapter to the cluster actor, which asks member `owner` (when
/// empty: the member whose tag the pid carries); (serve_restore_atom, nsp, pid, offset) -> remote_session: that
/// member's part (its adapter's hand_over).
using cluster_restore_atom = caf::atom_constant<caf::atom("sio_crest")>;
using serve_restore_atom = caf::atom_constant<caf::atom("sio_srest")>;

/// (hello_atom, address, cluster actor) -> vector<member_info>: a node introduces itself.
using hello_atom = caf::atom_constant<caf::atom("sio_hello")>;
/// (join_atom, address): contact that member (local; retried with backoff).
using join_member_atom = caf::atom_constant<caf::atom("sio_jmembr")>;
/// (members_atom) -> vector<string>: the addresses of the other members (local).
using members_atom = caf::atom_constant<caf::atom("sio_membrs")>;
/// (publish_broadcast_atom, remote_broadcast): from this node, for every other member.
using publish_broadcast_atom = caf::atom_constant<caf::atom("sio_pbcast")>;
/// (remote_broadcast_atom, remote_broadcast): from another member, for our sockets.
using remote_broadcast_atom = caf::atom_constant<caf::atom("sio_rbcast")>;

// -- requests for a session on another node (session_forwarder) --
/// (route_atom, tag) -> caf::actor: the cluster actor of the member whose sids
/// carry `tag` (local; an error if no member has it).
using route_atom = caf::atom_constant<caf::atom("sio_route")>;
/// (fwd_poll_atom, sid, forwarder) -> bool: a long-polling GET for a session
/// of this node; its answer goes to the forwarder as poll_answer_atom. False:
/// no such session.
using fwd_poll_atom = caf::atom_constant<caf::atom("sio_fpoll")>;
/// (fwd_post_atom, sid, body) -> bool: a POST payload for a session of this node.
using fwd_post_atom = caf::atom_constant<caf::atom("sio_fpost")>;
/// (poll_answer_atom, status, body): the session's answer to a forwarded GET
/// (200 with a payload, or an error status with a JSON body).
using poll_answer_atom = caf::atom_constant<caf::atom("sio_pansw")>;
/// (fwd_ws_atom, sid, relay) -> (session actor, channel id): a WebSocket
/// upgrade for a session of this node, accepted by another node's relay. The
/// relay then sends the session (ws_frame_atom / ws_closed_atom, channel id,
/// ...) and gets ws_send_atom / ws_close_atom back.
using fwd_ws_atom = caf::atom_constant<caf::atom("sio_fws")>;
/// (ws_send_atom, vector<wire_packet>, is_volatile): frames for the relay's client.
using ws_send_atom = caf::atom_constant<caf::atom("sio_wssend")>;
/// (ws_close_atom): the session closes the relayed WebSocket.
using ws_close_atom = caf::atom_constant<caf::atom("sio_wsclos")>;

} // namespace sio::cluster
