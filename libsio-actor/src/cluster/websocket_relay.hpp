// A WebSocket upgrade for a session on another node (behind a round-robin
// load balancer): this node completes the handshake and relays frames both
// ways between the client and the owner's session actor, which sees the
// relay as an ordinary ws_channel (remote_ws_channel) and runs the upgrade
// (2probe / 3probe / 5) as for a local WebSocket.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "engineio/transport.hpp"

namespace sio::cluster {

/// Front node: relays `ws` (handshake done, not yet attached) to the owner of `sid`.
void relay_websocket(caf::actor_system& sys, caf::actor cluster, std::string sid,
                     std::shared_ptr<engineio::ws_channel> ws);

/// Owner node: the session's side of a relayed WebSocket.
class remote_ws_channel final : public engineio::ws_channel {
public:
  explicit remote_ws_channel(caf::actor relay)
    : relay_(std::move(relay)), id_(engineio::new_channel_id()) {}
  std::uint64_t id() const noexcept override { return id_; }
  void attach(caf::actor) override {} // the relay reads and sends frames already
  void send(std::vector<engineio::packet_ptr> packets, bool is_volatile) override;
  void close() override;

private:
  caf::actor relay_;
  std::uint64_t id_;
};

} // namespace sio::cluster
