// The application layer on top of one Engine.IO session: a bare echo for the
// conformance app, or the Socket.IO client logic. It runs inside the session
// actor, so it needs no locks.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>

#include "engineio/packet.hpp"
#include "sio/engine_options.hpp"
#include "sio/handshake.hpp"

namespace sio::engineio {

/// What the session offers its handler.
class session_context {
public:
  virtual ~session_context() = default;
  virtual const std::string& sid() const noexcept = 0;
  virtual const sio::handshake& handshake() const noexcept = 0;
  /// The same, shareable: sockets without auth keep this one instead of a copy.
  virtual std::shared_ptr<const sio::handshake> shared_handshake() const noexcept = 0;
  virtual caf::event_based_actor* self() noexcept = 0;
  /// Engine.IO protocol revision: 4, or 3 for a Socket.IO v2 client (allow_eio3).
  virtual int protocol() const noexcept = 0;
  virtual void write(std::vector<packet_ptr> packets, bool is_volatile = false) = 0;
  /// Closes the session from the server side; on_close follows with `reason`.
  virtual void close_session(const std::string& reason) = 0;
};

class session_handler {
public:
  virtual ~session_handler() = default;
  virtual void on_open(session_context&) {}
  virtual void on_message(session_context& ctx, const packet& p) = 0;
  /// The session is gone; `reason` is Node's ("transport close", "ping timeout", ...).
  virtual void on_close(session_context&, const std::string& /*reason*/) {}
  /// Extra messages the session actor should understand on the handler's behalf.
  virtual caf::message_handler extra_behavior(session_context&) { return {}; }
};

using handler_factory = std::function<std::unique_ptr<session_handler>()>;

} // namespace sio::engineio
