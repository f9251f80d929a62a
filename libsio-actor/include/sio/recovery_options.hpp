// Connection state recovery (Node's `connectionStateRecovery`, Socket.IO 4.6):
// a client that was away for a short while gets its socket id, rooms and data
// back, and the events it missed. See docs/recovery.md.
#pragma once

#include <chrono>
#include <cstddef>

namespace sio {

struct recovery_options {
  /// Off by default, as in Node.
  bool enabled = false;
  /// How long a disconnected socket's state is kept, and how long an event
  /// stays replayable (Node's maxDisconnectionDuration, 2 minutes).
  std::chrono::milliseconds max_disconnection_duration{2 * 60 * 1000};
  /// A recovered socket skips the namespace middlewares (Node's default).
  bool skip_middlewares = true;
  /// Bounds of each namespace's log of replayable events on a node; Node has
  /// only the age bound. The oldest go first; a client whose missed events
  /// are gone gets a fresh socket instead of a partial replay.
  std::size_t max_log_events = 10000;
  std::size_t max_log_bytes = 16 * 1024 * 1024;
  /// Disconnected sockets kept per namespace; the oldest go first.
  std::size_t max_sessions = 100000;
  /// In a cluster: other nodes' sockets whose state is kept here in case
  /// their node dies (beyond it, a socket is recoverable only from its node).
  std::size_t max_replicas = 200000;
};

} // namespace sio
