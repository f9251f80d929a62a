// A handle to a named room of a namespace on this node, safe to keep and use
// from any thread or actor. It names the room rather than pinning one room
// actor: a room's actor lives from its first member on this node to its last
// (sio/room.hpp), and a ref stays valid across that, as a room name does in Node.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/message.hpp>

#include "sio/json.hpp"

namespace sio {

namespace socketio {
struct namespace_state;
struct handle_access;
}

class room_ref {
public:
  /// An empty ref; namespace_handle::room() and room::ref() make real ones.
  room_ref() = default;

  const std::string& name() const noexcept { return name_; }
  explicit operator bool() const noexcept { return !name_.empty() && !ns_.expired(); }

  /// Only this node's members (for emit).
  room_ref local() const {
    auto copy = *this;
    copy.local_ = true;
    return copy;
  }

  /// To every member of the room across the cluster (this node's only after
  /// local()), through the namespace's adapter: ordered with every other
  /// broadcast of the namespace, as io.to(name).emit(...).
  template <class... Ts>
  void emit(const std::string& event, Ts&&... args) const {
    emit_args(event, make_args(std::forward<Ts>(args)...));
  }
  void emit_args(const std::string& event, json args) const;

  /// Members on this node, answered by the adapter's index (0 / none when the
  /// room has no member here). `done` runs in `self`, or in a helper actor
  /// when `self` is null; not at all when the namespace is gone.
  void size(std::function<void(std::size_t)> done, caf::event_based_actor* self = nullptr) const;
  void members(std::function<void(std::vector<std::string>)> done,
               caf::event_based_actor* self = nullptr) const;

  /// An application message for the room actor's on_app_message handlers on
  /// this node (through the adapter, which knows the current room actor);
  /// dropped when the room has no member here.
  void send(caf::message msg) const;

private:
  friend struct socketio::handle_access;
  /// Weak: a ref kept in a handler the namespace stores makes no cycle.
  room_ref(std::weak_ptr<socketio::namespace_state> ns, std::string name)
    : ns_(std::move(ns)), name_(std::move(name)) {}

  std::weak_ptr<socketio::namespace_state> ns_;
  std::string name_;
  bool local_ = false;
};

} // namespace sio
