// Where and how the HTTP server listens.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "sio/balance.hpp"

namespace sio {

struct listen_options {
  /// Bind address; loopback unless asked otherwise.
  std::string host = "127.0.0.1";
  /// 0 picks a free port; http_server::port() tells which.
  std::uint16_t port = 0;
  /// I/O shards (one Asio io_context and thread each) serving the sockets;
  /// the acceptor actor gives each new connection to one of them.
  unsigned io_threads = 1;
  /// Linux: run the I/O threads with SCHED_BATCH, so that a thread woken by
  /// network input does not preempt the actor thread it feeds; each then
  /// hands the other batches instead of single messages (echo with 100
  /// clients on one core: +26% acks/s, -21% CPU per ack; docs/benchmarks.md).
  bool batch_scheduling = true;
  /// How the acceptor picks the shard for a new connection.
  balance_method balance = balance_method::least_connection;
  /// Largest request header block in bytes (Node: 16 KiB).
  std::size_t max_header_bytes = 16 * 1024;
  /// A keep-alive connection idle this long is closed.
  std::chrono::seconds idle_timeout{60};
  /// Open connections (HTTP and WebSocket) one client IP address may have;
  /// a connection beyond it is closed as soon as it is accepted, before any
  /// byte is read, and logged. 0 (the default): no limit. Behind a proxy
  /// every client has the proxy's address: leave it off there.
  std::size_t max_connections_per_ip = 0;
  /// HTTPS and WSS on this listener (Node: `https.createServer({cert, key})`):
  /// the certificate chain (leaf first) and its private key, PEM files read
  /// once by http_server::start(), which throws if they do not load or match.
  /// Both empty (the default): plain TCP. TLS 1.2 and 1.3 only.
  std::string tls_certificate_file;
  std::string tls_private_key_file;
  /// A connection that has not finished its TLS handshake this long after
  /// it was accepted is closed (a silent peer must not hold a descriptor).
  std::chrono::seconds tls_handshake_timeout{10};

  bool tls() const noexcept { return !tls_certificate_file.empty() || !tls_private_key_file.empty(); }
};

} // namespace sio
