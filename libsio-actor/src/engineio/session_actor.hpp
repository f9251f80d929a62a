// One actor per Engine.IO session: handshake, heartbeat, the long-polling
// buffer, the upgrade from polling to WebSocket, and close.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "engineio/session_handler.hpp"
#include "engineio/session_registry.hpp"
#include "engineio/transport.hpp"
#include "sio/engine_options.hpp"
#include "sio/handshake.hpp"

namespace sio::engineio {

struct session_config {
  std::string sid;
  std::shared_ptr<const engine_options> options;
  std::shared_ptr<session_registry> registry;
  sio::handshake handshake;
  /// Engine.IO protocol revision of the client: 4, or 3 (allow_eio3).
  int protocol = 4;
  /// v3 only: the client reads XHR2 binary polling payloads (it sent no
  /// "b64"). Its WebSocket always gets binary frames: every v3 client reads them.
  bool supports_binary = true;
  std::unique_ptr<session_handler> handler;
  /// Exactly one of these carries the handshake: the first polling GET, or
  /// the WebSocket the client opened directly.
  std::shared_ptr<poll_responder> first_poll;
  std::shared_ptr<ws_channel> first_ws;
  /// Held while the session is open (its place under engine_options::max_sessions).
  std::shared_ptr<const void> slot;
};

/// Spawns the session, registers it under its sid and sends the open packet.
caf::actor spawn_session(caf::actor_system& sys, session_config cfg);

/// Node's error bodies, e.g. error_body(1) == {"code":1,"message":"Session ID unknown"}.
std::string error_body(int code);

} // namespace sio::engineio
