// The acceptor actor: gives each new connection to one target (an I/O shard
// of this process, or a worker process under a primary) by its balance method,
// from the targets' live loads. The accept loop itself stays in Asio; only the
// choice, which needs state (round-robin position, RNG), lives in the actor.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include "net/live_counter.hpp"
#include "sio/balance.hpp"

namespace sio::net {

/// (assign_atom, int fd, std::string bytes_read): a connection to place;
/// `bytes_read` is what was already read from it (empty in one process).
using assign_atom = caf::atom_constant<caf::atom("assign")>;

struct acceptor_config {
  balance_method balance = balance_method::least_connection;
  /// One live count per target, read at each choice.
  std::vector<live_counter> loads;
  /// Hands the connection to the chosen target; runs in the actor. The token
  /// counts the connection at its target from the moment it is chosen, so a
  /// burst of connects sees every earlier choice.
  std::function<void(std::size_t target, int fd, std::string bytes_read, live_connection token)>
    deliver;
  /// False when `deliver` keeps the loads itself (a primary: its workers
  /// report them); the token is then empty.
  bool count_in_token = true;
};

caf::actor spawn_acceptor(caf::actor_system& sys, acceptor_config cfg);

} // namespace sio::net
