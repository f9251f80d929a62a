// Several sio-actor processes acting as one Socket.IO server (docs/cluster.md).
//
// Cluster links are mutual TLS (CAF's openssl module): a node presents the
// certificate in CAF's `openssl.certificate` / `openssl.key` options and
// accepts only peers whose certificate the CA in `openssl.cafile` signed. No
// byte of an unauthenticated peer reaches CAF's BASP parser, which crashes on
// crafted input (docs/security.md).
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
  /// Plain CAF BASP without TLS: anyone who reaches the cluster port can join
  /// the cluster, read every broadcast and crash the node with 64 bytes. Only
  /// for a network nobody else can reach; the server warns loudly at start.
  bool insecure = false;
};

/// Prepares an actor system config for clustering: loads CAF's middleman,
/// registers every message type nodes exchange, and enables middleman
/// heartbeats so dead or silent peers are detected. Call it on every node,
/// before the actor_system is built.
void configure_cluster(caf::actor_system_config& cfg,
                       std::chrono::milliseconds heartbeat = std::chrono::milliseconds{500});

/// For a `--workers` primary without cluster credentials of its own: makes a
/// private key and a self-signed certificate for this run only, kept in
/// memory (memfd, inherited by the workers, gone with the processes), and
/// points `cfg`'s openssl options at them. Call before the actor_system is
/// built. Throws std::runtime_error if OpenSSL fails.
void use_run_credentials(caf::actor_system_config& cfg);

} // namespace sio
