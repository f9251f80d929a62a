// Connection state recovery across nodes: a disconnected socket's state as
// it crosses the cluster (cluster::remote_session) and back.
#pragma once

#include <optional>

#include "cluster/messages.hpp"
#include "socketio/recovery_log.hpp"

namespace sio::cluster {

remote_session to_remote_session(const std::optional<socketio::persisted_session>& s);
std::optional<socketio::persisted_session> from_remote_session(const remote_session& r);

} // namespace sio::cluster
