// Typed messages for applications that route a socket's events to their own
// actor (socket.forward_events_to(actor)) instead of registering callbacks.
#pragma once

#include <string>

#include <caf/allowed_unsafe_message_type.hpp>

#include "sio/ack.hpp"
#include "sio/json.hpp"
#include "sio/socket_ref.hpp"

namespace sio {

/// One event from a client: reply with `ack`, talk back through `socket`.
struct event_message {
  std::string name;
  json args;
  ack_handle ack;
  socket_ref socket;
};

} // namespace sio

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sio::event_message)
