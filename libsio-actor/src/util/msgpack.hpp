// JSON as MessagePack bytes: how JSON crosses nodes (binary values survive,
// which JSON text would lose). Used by socket_ref, whose socket may live on
// another node, and by the cluster messages.
#pragma once

#include <string>

#include "sio/json.hpp"

namespace sio::util {

/// JSON as MessagePack bytes; never throws.
std::string to_bytes(const json& value);
/// Back from MessagePack; null if the bytes are not valid MessagePack.
json from_bytes(const std::string& bytes);

} // namespace sio::util
