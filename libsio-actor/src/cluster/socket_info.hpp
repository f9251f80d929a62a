// Converting sockets to and from the form they cross the cluster in.
#pragma once

#include <string>

#include "cluster/messages.hpp"
#include "sio/socket_ref.hpp"

namespace sio::cluster {

/// JSON as MessagePack bytes (binary values survive); never throws.
std::string to_bytes(const json& value);
/// Back from MessagePack; null if the bytes are not valid MessagePack.
json from_bytes(const std::string& bytes);

socket_info to_socket_info(const remote_socket& s);
remote_socket from_socket_info(socket_info info, const std::string& nsp);

} // namespace sio::cluster
