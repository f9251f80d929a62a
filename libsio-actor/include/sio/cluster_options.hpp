// Several sio-actor processes acting as one Socket.IO server (docs/cluster.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

namespace sio {

struct cluster_options {
  /// Off unless asked: a single node needs no cluster port.
  bool enabled = false;
  /// Where this node's cluster actor is published; loopback unless asked.
  std::string listen_host = "127.0.0.1";
  /// 0 picks a free port.
  std::uint16_t listen_port = 0;
  /// The address other nodes reach us at ("host:port"); empty: listen_host and the bound port.
  std::string advertise;
  /// Members to contact ("host:port"); any one member is enough.
  std::vector<std::string> join;
  /// Bound of every request to another node.
  std::chrono::milliseconds request_timeout{5000};
  /// Unreachable members are retried with exponential backoff up to this delay.
  std::chrono::milliseconds max_retry_delay{30000};
};

/// Prepares an actor system config for clustering: loads CAF's middleman,
/// registers every message type nodes exchange, and enables middleman
/// heartbeats so dead or silent peers are detected. Call it on every node,
/// before the actor_system is built.
void configure_cluster(caf::actor_system_config& cfg,
                       std::chrono::milliseconds heartbeat = std::chrono::milliseconds{500});

} // namespace sio
