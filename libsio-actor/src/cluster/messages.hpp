// What cluster nodes send each other. Every type here has inspect() and is
// registered on every node by sio::configure_cluster().
#pragma once

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

/// A broadcast for the sockets of one namespace on another node.
struct remote_broadcast {
  std::string nsp;
  std::vector<std::string> rooms;
  std::vector<std::string> except;
  bool is_volatile = false;
  std::vector<wire_packet> packets;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_broadcast& x) {
  return f(caf::meta::type_name("sio_remote_broadcast"), x.nsp, x.rooms, x.except, x.is_volatile,
           x.packets);
}

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

} // namespace sio::cluster
