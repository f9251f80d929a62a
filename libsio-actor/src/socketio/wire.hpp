// From Socket.IO packets to the Engine.IO packets that carry them.
#pragma once

#include <string>
#include <vector>

#include "engineio/packet.hpp"
#include "socketio/packet.hpp"

namespace sio::socketio {

/// The Engine.IO messages of `p`, encoded once and shared by every recipient:
/// json: one "4..." text message followed by one binary message per
/// attachment; msgpack: one binary message.
std::vector<engineio::packet_ptr> to_engine_packets(wire_format format, const packet& p);

/// The messages of an EVENT named `event` with `args` (an array) on `nsp`.
std::vector<engineio::packet_ptr> make_event(wire_format format, const std::string& nsp,
                                             const std::string& event, const json& args,
                                             std::optional<std::uint64_t> ack_id = {});

} // namespace sio::socketio
