// A bare Engine.IO endpoint (no Socket.IO layer): the application gets each
// session's messages through callbacks that run inside the session's actor.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <caf/fwd.hpp>

#include "sio/handshake.hpp"

namespace sio {

/// One Engine.IO session, seen from inside its actor. Do not keep references
/// to it beyond the callback; keep `actor()` instead.
class engine_socket {
public:
  virtual ~engine_socket() = default;
  virtual const std::string& id() const noexcept = 0;
  virtual const sio::handshake& handshake() const noexcept = 0;
  virtual void send_text(std::string_view text) = 0;
  virtual void send_binary(std::string bytes) = 0;
  virtual void close() = 0;
};

struct engine_handlers {
  std::function<void(engine_socket&)> on_open;
  std::function<void(engine_socket&, std::string_view data, bool is_binary)> on_message;
  /// `reason` as Node gives it: "transport close", "ping timeout", "parse error", ...
  std::function<void(engine_socket&, const std::string& reason)> on_close;
};

} // namespace sio
