// One actor per client per namespace: runs the namespace middlewares, then
// the application's handlers for this socket; keeps its acks and rooms.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "sio/handshake.hpp"
#include "socketio/recovery_log.hpp"

namespace sio::socketio {

struct namespace_state;

struct socket_config {
  std::string id;
  std::shared_ptr<namespace_state> ns;
  caf::actor session;
  /// With the CONNECT packet's auth; shared with the session when there is none.
  std::shared_ptr<const sio::handshake> handshake;
  /// Connection state recovery: the private id the client keeps (empty: off),
  /// and what it left behind, if it came back in time, with the offset it sent.
  std::string pid;
  std::optional<persisted_session> restored;
  std::string offset;
  /// A Socket.IO v2 client (Engine.IO 3, allow_eio3): CONNECT without a
  /// payload, refusals as ERROR packets with a bare message (Node's v3 paths).
  bool v2_client = false;
};

caf::actor spawn_socket(caf::event_based_actor* session, socket_config cfg);

} // namespace sio::socketio
