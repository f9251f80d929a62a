// What every actor of one namespace shares: its name, its adapter actor, the
// handlers the application registered, and the namespace-wide ack counter.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "engineio/session_handler.hpp"
#include "engineio/session_registry.hpp"
#include "sio/server.hpp"
#include "socketio/adapter.hpp"

namespace sio::socketio {

/// One namespace_handle::on_room registration.
struct room_behaviour {
  std::function<bool(const std::string& room)> matches;
  room_setup setup;
};

struct namespace_handlers {
  std::vector<connect_middleware> middlewares;
  std::vector<connection_handler> on_connection;
  std::map<std::string, std::function<void(json, ack_handle)>> server_side;
  /// Run in each new room actor whose name matches, in the order registered.
  std::vector<room_behaviour> rooms;
};

struct namespace_state;

/// Makes a namespace's adapter: the local one on a single node, the cluster
/// adapter in a cluster (installed by the server).
using adapter_factory =
  std::function<adapter_actor(caf::actor_system&, const std::shared_ptr<namespace_state>&)>;

struct namespace_state {
  /// A namespace with its adapter (the local one unless `make_adapter` is given).
  static std::shared_ptr<namespace_state> create(caf::actor_system& s, std::string n,
                                                 std::shared_ptr<const server_options> o,
                                                 const adapter_factory& make_adapter = {});
  namespace_state(caf::actor_system& s, std::string n, std::shared_ptr<const server_options> o);
  ~namespace_state();

  /// A consistent copy of the handlers, taken when a socket starts.
  std::shared_ptr<const namespace_handlers> handlers() const;
  template <class F>
  void update_handlers(F f) {
    std::lock_guard<std::mutex> guard{mutex};
    auto copy = std::make_shared<namespace_handlers>(*handlers_);
    f(*copy);
    handlers_ = std::move(copy);
  }

  caf::actor_system& sys;
  const std::string name;
  const std::shared_ptr<const server_options> options;
  /// Set once by create(), before the namespace is shared.
  adapter_actor adapter;
  /// Names this namespace on this node in recovery offsets (socketio/recovery_log.hpp).
  const std::string origin = make_origin_id();
  /// Ack ids are unique per namespace, so a broadcast ack and a socket's own
  /// ack never collide on one client.
  std::atomic<std::uint64_t> next_ack_id{0};
  std::atomic<std::size_t> socket_count{0};

private:
  mutable std::mutex mutex;
  std::shared_ptr<const namespace_handlers> handlers_ = std::make_shared<namespace_handlers>();
};

struct dynamic_namespace {
  std::function<bool(const std::string&, const json&)> matches;
  std::shared_ptr<namespace_state> parent; // its handlers are copied into each child
};

struct server_state {
  server_state(caf::actor_system& s, server_options o);

  /// The namespace for a CONNECT: an existing one, a new child of a matching
  /// dynamic namespace, or null ("Invalid namespace").
  std::shared_ptr<namespace_state> find_for_connect(const std::string& name, const json& auth);
  std::shared_ptr<namespace_state> get_or_create(const std::string& name);
  /// The namespace `name` if it exists on this node (for broadcasts from other nodes).
  std::shared_ptr<namespace_state> find(const std::string& name);

  /// A new namespace named `name`, with an adapter from `make_adapter`.
  std::shared_ptr<namespace_state> make_namespace(const std::string& name);

  caf::actor_system& sys;
  const std::shared_ptr<const server_options> options;
  /// Empty: local adapters. The server sets it before any namespace exists.
  adapter_factory make_adapter;
  caf::actor cluster;
  std::uint16_t cluster_port = 0;
  /// This node's sessions by sid: the HTTP endpoint adds them, the cluster
  /// actor finds them for requests forwarded from other nodes.
  std::shared_ptr<engineio::session_registry> sessions =
    std::make_shared<engineio::session_registry>();
  /// The other cluster members as the cluster actor last announced them.
  std::mutex members_mutex;
  std::vector<std::string> members;
  /// In a cluster: the start of every sid, naming this node (cluster/node_tag.hpp).
  std::string sid_prefix;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<namespace_state>> namespaces;
  std::vector<dynamic_namespace> dynamic;
  /// Namespaces the dynamic matchers created (server_options::max_dynamic_namespaces).
  std::size_t dynamic_children = 0;
};

/// For http_server::serve(server&) (src/runner/server.cpp).
engineio::handler_factory handler_factory_of(const server& io);

} // namespace sio::socketio
