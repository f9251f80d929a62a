// What the server knows of a client from its first request, as in Node's
// `socket.handshake`.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "sio/json.hpp"

namespace sio {

struct handshake {
  /// Request headers, names in lower case.
  std::map<std::string, std::string> headers;
  /// Decoded query parameters of the first request.
  std::map<std::string, std::string> query;
  /// The peer's IP address.
  std::string address;
  /// The first request's target (path and query).
  std::string url;
  bool secure = false;
  /// Milliseconds since the epoch when the session was opened.
  std::int64_t issued = 0;
  /// The Socket.IO CONNECT payload (`{}` when the client sent none).
  json auth = json::object();
};

} // namespace sio
