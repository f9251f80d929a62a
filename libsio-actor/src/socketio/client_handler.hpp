// Socket.IO's per-connection logic, run inside the Engine.IO session actor
// (Node's Client class): decodes packets, connects namespaces, routes each
// packet to the socket actor of its namespace, enforces the connect timeout.
#pragma once

#include <memory>

#include "engineio/session_handler.hpp"

namespace sio::socketio {

struct server_state;

std::unique_ptr<engineio::session_handler> make_client_handler(std::shared_ptr<server_state> s);

} // namespace sio::socketio
