// A client connected to one namespace, seen from inside its actor: handlers
// registered here run in that actor, one at a time, so per-socket state needs
// no locks. Keep ref() (not a reference to this object) beyond a handler.
#pragma once

#include <chrono>
#include <cstddef>
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
/// Sees each event this socket sends to its client: its name and arguments
/// (Node's onAnyOutgoing listener).
using outgoing_handler =
  std::function<void(socket&, const std::string& event, const json& args)>;
/// Names one handler added with on(), once(), on_any(), prepend_any(),
/// on_any_outgoing() or prepend_any_outgoing(), for off(), off_any() or
/// off_any_outgoing(). std::function cannot be compared, so handlers are
/// removed by this id rather than by themselves as in Node. Never 0.
using handler_id = std::size_t;

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

  /// Adds a handler of `event`; handlers run in the order they were added.
  virtual handler_id on(const std::string& event, event_handler handler) = 0;
  /// As on(), but the handler is removed before its first run.
  virtual handler_id once(const std::string& event, event_handler handler) = 0;
  /// Removes every handler of `event` (Node's removeAllListeners(event)).
  virtual void off(const std::string& event) = 0;
  /// Removes the handler `id` of `event` (Node's off(event, listener)).
  virtual void off(const std::string& event, handler_id id) = 0;
  /// Runs for every event before its own handler.
  virtual handler_id on_any(event_handler handler) = 0;
  /// As on_any(), but runs before the on_any() handlers added so far.
  virtual handler_id prepend_any(event_handler handler) = 0;
  /// Removes every on_any() / prepend_any() handler, or only `id`.
  virtual void off_any() = 0;
  virtual void off_any(handler_id id) = 0;
  /// Runs for each event this socket sends to its client: emit(), emit_args(),
  /// emit_with_ack() and the emits of its socket_ref. Unlike Node, not for
  /// broadcasts (io.emit, to(room).emit, ...) that reach this socket: those
  /// are encoded once and go to the client's session without passing through
  /// this socket's actor.
  virtual handler_id on_any_outgoing(outgoing_handler handler) = 0;
  virtual handler_id prepend_any_outgoing(outgoing_handler handler) = 0;
  /// Removes every on_any_outgoing() handler, or only `id`.
  virtual void off_any_outgoing() = 0;
  virtual void off_any_outgoing(handler_id id) = 0;
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
  /// Node's socket.volatile: the next emit (or emit_with_ack) is dropped if
  /// the client's transport cannot take it right now (a WebSocket write in
  /// progress, no long-polling request waiting, a full write queue), e.g.
  /// `s.volatile_().emit("pos", x, y)`. A volatile event is not kept for
  /// connection state recovery. As in Node, the flag stays until that emit.
  virtual socket& volatile_() = 0;
  /// Node's socket.compress(): accepted, no effect (WebSocket
  /// permessage-deflate is off in sio-actor).
  virtual socket& compress(bool on) = 0;

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
