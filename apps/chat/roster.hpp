// The chat's list of who is connected: one actor per node (docs/chat.md,
// "Who is online").
#pragma once

#include <cstddef>
#include <string>

#include <caf/fwd.hpp>

#include "sio/sio.hpp"

namespace chat {

struct roster_options {
  /// Roster packets (the "users" event and join/leave notices) this node may
  /// send per second, to all its clients together. The roster is sent at most
  /// 4 times a second, and less often when that would exceed this budget, so
  /// its traffic does not grow with the number of users.
  std::size_t packets_per_second = 10000;
  /// Whether other nodes serve the same chat: then "online" counts them too.
  bool clustered = false;
};

/// Spawns the roster of `nsp`'s clients on this node.
caf::actor spawn_roster(caf::actor_system& sys, sio::namespace_handle nsp, roster_options opts);

/// Tell the roster that the socket `id` arrived or left.
void roster_join(const caf::actor& roster, const std::string& id);
void roster_leave(const caf::actor& roster, const std::string& id);

} // namespace chat
