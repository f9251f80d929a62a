// A client connected to one namespace, seen from inside its actor: handlers
// registered here run in that actor, one at a time, so per-socket state needs
// no locks. Keep ref() (not a reference to this object) beyond a handler.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "sio/ack.hpp"
#include "sio/broadcast_operator.hpp"
#include "sio/event.hpp"
#include "sio/handshake.hpp"
#include "sio/json.hpp"
#include "sio/socket_ref.hpp"

namespace sio {

class socket;

using event_handler = std::function<void(socket&, event&)>;
/// Node's reasons: "client namespace disconnect", "server namespace disconnect",
/// "transport close", "transport error", "ping timeout", "parse error",
/// "forced close", "server shutting down".
using disconnect_handler = std::function<void(socket&, const std::string& reason)>;
/// Incoming-packet middleware (Node's socket.use): call next() to go on, or
/// next("message") to drop the event and raise an error on the socket.
using packet_middleware =
  std::function<void(socket&, event&, std::function<void(std::optional<std::string>)> next)>;

class socket {
public:
  virtual ~socket() = default;

  virtual const std::string& id() const noexcept = 0;
  virtual const std::string& nsp() const noexcept = 0;
  virtual const sio::handshake& handshake() const noexcept = 0;
  /// Free-form data of the application, returned by fetch_sockets().
  virtual json& data() noexcept = 0;
  virtual bool connected() const noexcept = 0;
  /// Node's socket.recovered: this socket came back within the recovery
  /// window with its id, rooms and data, and got the events it missed
  /// (server_options::connection_state_recovery).
  virtual bool recovered() const noexcept = 0;

  virtual void on(const std::string& event, event_handler handler) = 0;
  /// Runs for every event before its own handler.
  virtual void on_any(event_handler handler) = 0;
  virtual void on_disconnecting(disconnect_handler handler) = 0;
  virtual void on_disconnect(disconnect_handler handler) = 0;
  /// Errors raised by packet middlewares.
  virtual void on_error(std::function<void(socket&, const std::string&)> handler) = 0;
  virtual void use(packet_middleware middleware) = 0;
  /// Sends every event to `target` as an sio::event_message instead of the
  /// handlers registered with on() (see sio/messages.hpp).
  virtual void forward_events_to(caf::actor target) = 0;

  template <class... Ts>
  void emit(const std::string& event, Ts&&... args) {
    emit_args(event, make_args(std::forward<Ts>(args)...));
  }
  virtual void emit_args(const std::string& event, json args) = 0;
  /// Emits and waits for the client's ack; `done` gets its answer or an error
  /// after `timeout` (or when the socket disconnects).
  virtual void emit_with_ack(const std::string& event, json args,
                             std::chrono::milliseconds timeout, ack_callback done) = 0;

  /// Joins the room(s). False if server_options::max_rooms_per_socket
  /// refused some of them (the rest are joined; a line is logged).
  virtual bool join(const std::string& room) = 0;
  virtual bool join(const std::vector<std::string>& rooms) = 0;
  virtual void leave(const std::string& room) = 0;
  /// The rooms this socket is in, its own id included (as in Node).
  virtual const std::set<std::string>& rooms() const noexcept = 0;

  /// Everyone in `room` but this socket.
  virtual broadcast_operator to(const std::string& room) = 0;
  broadcast_operator in(const std::string& room) { return to(room); }
  virtual broadcast_operator except(const std::string& room) = 0;
  /// Everyone in the namespace but this socket.
  virtual broadcast_operator broadcast() = 0;

  /// Leaves the namespace ("server namespace disconnect"); with close = true
  /// the whole underlying connection is closed.
  virtual void disconnect(bool close = false) = 0;

  virtual socket_ref ref() const = 0;
  /// The socket's actor, e.g. to spawn helpers or send to other actors.
  virtual caf::event_based_actor* self() noexcept = 0;
};

} // namespace sio
