// The HTTP listener every endpoint is served from: Engine.IO / Socket.IO
// endpoints and static files, on Asio I/O threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "sio/engine.hpp"
#include "sio/engine_options.hpp"
#include "sio/listen_options.hpp"

namespace sio {

class server;

class http_server {
public:
  http_server(caf::actor_system& sys, listen_options opts = {});
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Serves a bare Engine.IO endpoint at `opts.path`.
  void serve_engine(engine_options opts, engine_handlers handlers);
  /// Serves a Socket.IO server at its path (options().engine.path).
  void serve(server& io);
  /// Serves one file at exactly `url_path`.
  void serve_file(std::string url_path, std::string file_path, std::string content_type);

  /// Binds and starts accepting; returns the bound port. Throws on bind failure.
  std::uint16_t start();
  /// Serves a connection accepted elsewhere (a primary process handed it
  /// over), of which `bytes_read` were already read. Call after start().
  void adopt(int fd, std::string bytes_read);
  /// The start of this server's session ids (names its node in a cluster).
  std::string sid_prefix() const;

  /// Stops accepting, closes every connection and joins the I/O threads.
  void stop();
  std::uint16_t port() const noexcept;
  /// Live connections (HTTP and WebSocket) per I/O shard.
  std::vector<std::size_t> shard_loads() const;
  /// Engine.IO sessions open right now, over every endpoint.
  std::size_t session_count() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sio
