// The error a namespace middleware gives to refuse a connection; the client
// receives it as a CONNECT_ERROR packet ({"message": ..., "data": ...}).
#pragma once

#include <string>

#include "sio/json.hpp"

namespace sio {

struct connect_error {
  std::string message;
  /// Sent as "data" unless null.
  json data = nullptr;
};

} // namespace sio
