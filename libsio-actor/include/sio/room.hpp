// A named room seen from inside its room actor. Every named room (not the
// private room named after a socket id) has an actor on each node where it has
// members, from its first member there to its last. The adapter still delivers
// every broadcast to the sessions itself; the room actor stands beside that
// path and gets the room's life events and every message sent to the room.
//
// Applications shape room actors with namespace_handle::on_room(pattern, setup):
// `setup` runs once in each matching room's actor when the room is created
// and registers the handlers below. They all run in that actor, one at a time,
// so room-scoped state (captured by the handlers) needs no locks. Only use a
// `room&` inside its handlers; keep ref() for later or for other threads.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/message.hpp>

#include "sio/broadcast_operator.hpp"
#include "sio/json.hpp"
#include "sio/room_message.hpp"
#include "sio/room_ref.hpp"
#include "sio/socket_ref.hpp"

namespace sio {

class room;

/// (room, socket id): a socket of this node joined / left the room.
using room_member_handler = std::function<void(room&, const std::string& socket_id)>;
/// Every message sent to the room (from any node) with broadcast emit, in the
/// order the members got it. Broadcasts with ack are not shown (their packets
/// carry one node's ack id), nor broadcasts to the whole namespace.
using room_message_handler = std::function<void(room&, const room_message&)>;
/// An application message sent with room_ref::send.
using room_app_handler = std::function<void(room&, const caf::message&)>;
/// The last member on this node left: the room actor ends after these ran.
using room_delete_handler = std::function<void(room&)>;
/// What namespace_handle::on_room runs once in each matching room's actor.
using room_setup = std::function<void(room&)>;

class room {
public:
  virtual ~room() = default;

  virtual const std::string& name() const noexcept = 0;
  /// The namespace's name.
  virtual const std::string& nsp() const noexcept = 0;
  /// Members on this node.
  virtual std::size_t size() const noexcept = 0;
  /// This node's members' socket ids, sorted.
  virtual std::vector<std::string> members() const = 0;
  virtual bool has_member(const std::string& socket_id) const = 0;

  /// Handlers, run in the order added. Members that were already in the room
  /// when a handler was added are not replayed to it (setup runs before the
  /// first member's join).
  virtual room& on_join(room_member_handler handler) = 0;
  virtual room& on_leave(room_member_handler handler) = 0;
  virtual room& on_message(room_message_handler handler) = 0;
  virtual room& on_app_message(room_app_handler handler) = 0;
  virtual room& on_delete(room_delete_handler handler) = 0;

  /// To every member across the cluster, through the adapter (so ordered with
  /// every other broadcast); the room actor sees it too, as any message to
  /// the room.
  template <class... Ts>
  void emit(const std::string& event, Ts&&... args) const {
    emit_args(event, make_args(std::forward<Ts>(args)...));
  }
  virtual void emit_args(const std::string& event, json args) const = 0;
  /// io.to(name()) with callbacks run in this room actor: local(), except(),
  /// emit_with_ack, fetch_sockets ... Throws std::logic_error once the
  /// namespace is gone (the server is shutting down; the handler's exception
  /// is caught and logged like any other).
  virtual broadcast_operator broadcast() const = 0;

  /// To one socket: a member on this node directly into its session (one hop,
  /// like a socket's own emit: not ordered with broadcasts), any other socket
  /// id through the adapter, wherever in the cluster it is. With connection
  /// state recovery on, always through the adapter (it gets its offset there).
  template <class... Ts>
  void emit_to(const std::string& socket_id, const std::string& event, Ts&&... args) const {
    emit_to_args(socket_id, event, make_args(std::forward<Ts>(args)...));
  }
  template <class... Ts>
  void emit_to(const socket_ref& socket, const std::string& event, Ts&&... args) const {
    socket.emit(event, std::forward<Ts>(args)...);
  }
  virtual void emit_to_args(const std::string& socket_id, const std::string& event,
                            json args) const = 0;
  /// Sends a stored message to one member on this node as it was sent (the
  /// same encoded packets, no copy, no re-encoding): a room's history for a
  /// joiner. False when `socket_id` is not a member here. The replay goes
  /// from this actor to the session, so live broadcasts sent right after the
  /// join may reach the joiner before the replayed ones (none is lost or
  /// doubled: the room actor sees messages in the adapter's order). With
  /// connection state recovery on, the message carries the offset it was
  /// sent with: the joiner's client then remembers an older offset, and its
  /// next recovery may repeat events. Send history with emit_to() there.
  virtual bool replay(const std::string& socket_id, const room_message& message) const = 0;

  /// A handle to this room for later or for other actors.
  virtual room_ref ref() const = 0;
  /// The room actor itself (for timers, requests to other actors ...).
  virtual caf::event_based_actor* self() const noexcept = 0;
};

} // namespace sio
