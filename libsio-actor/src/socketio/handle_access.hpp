// The internals a public handle keeps privately (its namespace, the server's
// state), for the library's own code and its tests: public headers declare
// this struct a friend, and only the library sees its definition, so an app
// cannot build a handle from (or reach into) an internal type.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <utility>

#include "sio/broadcast_operator.hpp"
#include "sio/room_ref.hpp"
#include "sio/server.hpp"

namespace sio::socketio {

struct namespace_state;
struct server_state;

struct handle_access {
  static namespace_handle make_namespace_handle(std::shared_ptr<namespace_state> ns) {
    return namespace_handle{std::move(ns)};
  }
  static const std::shared_ptr<namespace_state>& state(const namespace_handle& h) noexcept {
    return h.ns_;
  }
  static const std::shared_ptr<server_state>& state(const server& s) noexcept { return s.state_; }
  /// `self`: the actor whose code creates the operator (callbacks run there),
  /// or null outside any actor (callbacks then run in a helper actor).
  static broadcast_operator make_operator(std::shared_ptr<namespace_state> ns,
                                          caf::event_based_actor* self,
                                          std::set<std::string> except = {}) {
    return broadcast_operator{std::move(ns), self, std::move(except)};
  }
  static room_ref make_room_ref(std::weak_ptr<namespace_state> ns, std::string name) {
    return room_ref{std::move(ns), std::move(name)};
  }
};

} // namespace sio::socketio
