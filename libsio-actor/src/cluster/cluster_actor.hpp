// One per node: membership (join any member, learn all, connect to each: a
// full mesh; peers monitored, removed when they leave or die) and the relay
// between this node's cluster adapters and the other members: requests go out
// to every member and are gathered here (finishing early when a member
// leaves); requests from members go to this node's adapter of their namespace.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "cluster/messages.hpp"
#include "engineio/transport.hpp"
#include "socketio/adapter.hpp"
#include "sio/cluster_options.hpp"

namespace sio::cluster {

/// (start_atom, self address): the node is published; contact the members to join.
using start_atom = caf::atom_constant<caf::atom("sio_cstart")>;

struct cluster_config {
  cluster_options options;
  std::string self_address; // as other nodes reach us; set by start_atom
  /// The adapter of namespace `nsp` on this node (invalid if it has none):
  /// requests from other nodes go to it, with `local` set.
  std::function<socketio::adapter_actor(const std::string& nsp)> find_adapter;
  /// Every namespace's adapter on this node (members joining and leaving).
  std::function<std::vector<socketio::adapter_actor>()> all_adapters;
  /// Runs (in the cluster actor) whenever a member joins or leaves, with the
  /// other members' addresses.
  std::function<void(std::vector<std::string>)> members_changed;
  /// The session actor with this sid on this node, if any.
  std::function<std::optional<caf::actor>(const std::string& sid)> find_session;
};

/// Answers a forwarded GET through the forwarder actor on the node that got it.
class actor_poll_responder final : public engineio::poll_responder {
public:
  explicit actor_poll_responder(caf::actor forwarder) : forwarder_(std::move(forwarder)) {}
  void send_payload(std::string payload) override;
  void send_binary_payload(std::string payload) override;
  void send_error(unsigned status, std::string json_body) override;
  bool relayed() const noexcept override { return true; }

private:
  caf::actor forwarder_;
};

caf::actor spawn_cluster_actor(caf::actor_system& sys, cluster_config cfg);

} // namespace sio::cluster
