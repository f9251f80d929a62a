// Serves a long-polling request for a session that lives on another node
// (behind a round-robin load balancer, or after a worker handed the client's
// connection to the wrong process): one short-lived actor per request asks the
// local cluster actor for the owner, sends the request there and answers the
// HTTP client with what the owner's session replies. Bounded in time, and a
// dead owner ends the wait at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "engineio/transport.hpp"

namespace sio::cluster {

struct forwarded_request {
  std::string sid;
  bool is_post = false;
  std::string body;                                   // POST only
  std::shared_ptr<engineio::poll_responder> responder; // answers the HTTP request
  std::chrono::milliseconds timeout{30000};
};

/// Spawns the forwarder; `cluster` is this node's cluster actor.
void forward_request(caf::actor_system& sys, caf::actor cluster, forwarded_request req);

} // namespace sio::cluster
