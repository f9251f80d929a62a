// One per node: membership (join any member, learn all, connect to each: a
// full mesh; peers monitored, removed when they leave or die) and the relay of
// broadcasts between nodes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "cluster/messages.hpp"
#include "engineio/transport.hpp"
#include "sio/cluster_options.hpp"

namespace sio::cluster {

/// (start_atom, self address): the node is published; contact the members to join.
using start_atom = caf::atom_constant<caf::atom("sio_cstart")>;

struct cluster_config {
  cluster_options options;
  std::string self_address; // as other nodes reach us; set by start_atom
  /// Delivers a broadcast from another node to this node's sockets.
  std::function<void(const remote_broadcast&)> deliver;
  /// This node's sockets matching a request from another node; the callback
  /// runs in `self` (the cluster actor).
  std::function<void(caf::event_based_actor* self, const node_request&,
                     std::function<void(std::vector<socket_info>)>)>
    local_fetch;
  /// join / leave / disconnect for this node's matching sockets.
  std::function<void(const node_request&)> local_bulk;
  /// Runs this node's handler for a server-side event; `ack` (may stay
  /// uncalled) answers with MessagePack bytes. Returns false without a handler.
  std::function<bool(const server_event&, std::function<void(std::string)> ack)> local_event;
  /// This node's part of a broadcast with ack; `done` (run in `self`) gets
  /// the answers (MessagePack) and whether every socket answered in time.
  std::function<void(caf::event_based_actor* self, const ack_broadcast&,
                     std::function<void(std::vector<std::string>, bool)> done)>
    local_ack_broadcast;
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
  void send_error(unsigned status, std::string json_body) override;
  bool relayed() const noexcept override { return true; }

private:
  caf::actor forwarder_;
};

caf::actor spawn_cluster_actor(caf::actor_system& sys, cluster_config cfg);

} // namespace sio::cluster
