// The HTTP face of an Engine.IO server: validates each request as Node's
// engine.io does (transport, sid, method, protocol version), opens sessions,
// and routes polling requests and WebSocket upgrades to the session actor
// that owns the sid.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "engineio/session_handler.hpp"
#include "engineio/session_registry.hpp"
#include "engineio/transport.hpp"
#include "net/http_connection.hpp"
#include "sio/engine_options.hpp"

namespace sio {
class server;
}

namespace sio::net {

/// Serves a polling request (GET, or POST with its body) for a sid this
/// process does not have, e.g. by forwarding it to the cluster member that
/// owns it. Returns false if it cannot (the client then gets "Session ID unknown").
using forward_unknown_sid = std::function<bool(const std::string& sid, bool is_post,
                                               std::string body,
                                               std::shared_ptr<engineio::poll_responder>)>;

/// For a WebSocket upgrade of a sid this process does not have: what to do
/// with the WebSocket once accepted (relay it to the owner), or empty if it
/// cannot be served ("Session ID unknown").
using forward_unknown_websocket =
  std::function<std::function<void(std::shared_ptr<engineio::ws_channel>)>(const std::string& sid)>;

/// What an Engine.IO endpoint shares with the rest of its server: the session
/// registry, the sid prefix and (in a cluster) the forwarding of requests for
/// other nodes' sessions. Empty for a bare endpoint.
struct endpoint_wiring {
  std::shared_ptr<engineio::session_registry> sessions;
  std::string sid_prefix;
  forward_unknown_sid forward;
  forward_unknown_websocket forward_ws;
};

/// Everything http_server::serve(server&) mounts. Declared here, where it is
/// used, and defined by the runner (src/runner/server.cpp), which alone sees
/// the server's parts: net knows nothing of Socket.IO.
struct socketio_endpoint {
  engine_options options;
  engineio::handler_factory factory;
  endpoint_wiring wiring;
};
socketio_endpoint socketio_endpoint_of(const server& io);

class engine_endpoint final : public http_route {
public:
  /// `registry`: where sessions are found by sid (shared with a cluster
  /// actor); null creates one. `sid_prefix` starts every new sid.
  engine_endpoint(caf::actor_system& sys, engine_options opts, engineio::handler_factory factory,
                  std::shared_ptr<engineio::session_registry> registry = nullptr,
                  std::string sid_prefix = {}, forward_unknown_sid forward = nullptr,
                  forward_unknown_websocket forward_ws = nullptr);

  void handle(const std::shared_ptr<http_connection>& conn, request req) override;

  const engine_options& options() const noexcept { return *options_; }
  const std::shared_ptr<engineio::session_registry>& registry() const noexcept {
    return registry_;
  }

private:
  void open_session(const std::shared_ptr<http_connection>& conn, request req, bool websocket);
  void reject(const std::shared_ptr<http_connection>& conn, const request& req, int code);
  /// A place under engine_options::max_sessions, or null if there is none.
  std::shared_ptr<const void> take_session_slot();
  void refuse_handshake(const std::shared_ptr<http_connection>& conn, const request& req,
                        bool websocket);

  caf::actor_system& sys_;
  std::shared_ptr<const engine_options> options_;
  engineio::handler_factory factory_;
  std::shared_ptr<engineio::session_registry> registry_;
  std::string sid_prefix_;
  forward_unknown_sid forward_;
  forward_unknown_websocket forward_ws_;
  /// Sessions open (or opening) through this endpoint.
  std::shared_ptr<std::atomic<std::size_t>> open_sessions_ =
    std::make_shared<std::atomic<std::size_t>>(0);
};

} // namespace sio::net
