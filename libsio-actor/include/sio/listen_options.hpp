// Where and how the HTTP server listens.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sio {

struct listen_options {
  /// Bind address; loopback unless asked otherwise.
  std::string host = "127.0.0.1";
  /// 0 picks a free port; http_server::port() tells which.
  std::uint16_t port = 0;
  /// Asio I/O threads serving the sockets.
  unsigned io_threads = 1;
  /// Largest request header block in bytes (Node: 16 KiB).
  std::size_t max_header_bytes = 16 * 1024;
  /// A keep-alive connection idle this long is closed.
  std::chrono::seconds idle_timeout{60};
};

} // namespace sio
