// From Socket.IO packets to the Engine.IO packets that carry them.
#pragma once

#include <string>
#include <vector>

#include "engineio/packet.hpp"
#include "socketio/packet.hpp"

namespace sio::socketio {

/// One "4..." text packet followed by one binary packet per attachment;
/// encoded once, shared by every recipient.
std::vector<engineio::packet_ptr> to_engine_packets(const packet& p);

/// The packets of an EVENT named `event` with `args` (an array) on `nsp`.
std::vector<engineio::packet_ptr> make_event(const std::string& nsp, const std::string& event,
                                             const json& args,
                                             std::optional<std::uint64_t> ack_id = {});

} // namespace sio::socketio
