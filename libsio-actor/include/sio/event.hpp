// One event received from a client.
#pragma once

#include <string>

#include "sio/ack.hpp"
#include "sio/json.hpp"

namespace sio {

struct event {
  std::string name;
  /// The arguments after the event name (an array; binary values are json::binary).
  json args = json::array();
  /// Call it to acknowledge, if the client asked (ack.requested()).
  ack_handle ack;
};

} // namespace sio
