// The JSON type of the public API. ordered_json keeps keys in insertion order,
// so a payload is echoed to clients exactly as they sent it (as Node does).
// Binary values (json::binary(...)) become Socket.IO binary attachments.
#pragma once

#include <nlohmann/json.hpp>

namespace sio {
using json = nlohmann::ordered_json;
using binary = json::binary_t;
} // namespace sio
