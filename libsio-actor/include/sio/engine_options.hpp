// Engine.IO settings, named after Node's engine.io server options.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace sio {

struct cors_options {
  /// Allowed origins; "*" allows any. Empty: no CORS headers at all.
  std::vector<std::string> origins;
  /// Access-Control-Allow-Credentials: true (the request's origin is echoed, not "*").
  bool credentials = false;
};

struct engine_options {
  /// URL path the endpoint answers under (trailing slash optional on input).
  std::string path = "/engine.io/";
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  /// Largest HTTP body or WebSocket message a client may send, in bytes.
  std::size_t max_http_buffer_size = 1000000;
  bool allow_polling = true;
  bool allow_websocket = true;
  bool allow_upgrades = true;
  /// A client that starts an upgrade must finish it within this time.
  std::chrono::milliseconds upgrade_timeout{10000};
  /// Bytes queued for one client before it counts as a slow consumer and is
  /// disconnected ("transport error"). Volatile packets are dropped earlier:
  /// whenever the client's transport is not ready to write.
  std::size_t max_buffered_bytes = 16 * 1024 * 1024;
  /// Engine.IO sessions open at once on this endpoint (in this process). A
  /// handshake beyond it is refused as Node refuses one through allowRequest:
  /// polling gets 403 {"code":4,"message":"Too many sessions"}, a WebSocket
  /// handshake 400 "Too many sessions". 0 (the default): no limit.
  std::size_t max_sessions = 0;
  /// Also accept Engine.IO v3 clients (socket.io-client 1.x and 2.x: any
  /// `EIO` other than 4), as Node's allowEIO3. Off: they are refused with
  /// 400 {"code":5,"message":"Unsupported protocol version"}.
  bool allow_eio3 = false;
  cors_options cors;
};

} // namespace sio
