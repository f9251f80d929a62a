// The HTTP face of an Engine.IO server: validates each request as Node's
// engine.io does (transport, sid, method, protocol version), opens sessions,
// and routes polling requests and WebSocket upgrades to the session actor
// that owns the sid.
#pragma once

#include <memory>

#include <caf/actor_system.hpp>

#include "engineio/session_handler.hpp"
#include "engineio/session_registry.hpp"
#include "net/http_connection.hpp"
#include "sio/engine_options.hpp"

namespace sio::net {

class engine_endpoint final : public http_route {
public:
  engine_endpoint(caf::actor_system& sys, engine_options opts, engineio::handler_factory factory);

  void handle(const std::shared_ptr<http_connection>& conn, request req) override;

  const engine_options& options() const noexcept { return *options_; }
  const std::shared_ptr<engineio::session_registry>& registry() const noexcept {
    return registry_;
  }

private:
  void open_session(const std::shared_ptr<http_connection>& conn, request req, bool websocket);
  void reject(const std::shared_ptr<http_connection>& conn, const request& req, int code);

  caf::actor_system& sys_;
  std::shared_ptr<const engine_options> options_;
  engineio::handler_factory factory_;
  std::shared_ptr<engineio::session_registry> registry_;
};

} // namespace sio::net
