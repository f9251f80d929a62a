// The JSON type of the public API. ordered_json keeps keys in insertion order,
// so a payload is echoed to clients exactly as they sent it (as Node does).
// Binary values (json::binary(...)) become Socket.IO binary attachments.
#pragma once

#include <utility>

#include <nlohmann/json.hpp>

namespace sio {
using json = nlohmann::ordered_json;
using binary = json::binary_t;

/// The arguments of an emit as the JSON array that goes on the wire.
template <class... Ts>
json make_args(Ts&&... args) {
  json array = json::array();
  (array.push_back(json(std::forward<Ts>(args))), ...);
  return array;
}
} // namespace sio
