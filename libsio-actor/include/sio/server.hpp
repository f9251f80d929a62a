// The Socket.IO server: namespaces, their middlewares and connection
// handlers, and broadcasts. Serve it with http_server::serve(server&).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>

#include <caf/fwd.hpp>

#include "sio/broadcast_operator.hpp"
#include "sio/cluster_options.hpp"
#include "sio/connect_error.hpp"
#include "sio/wire_format.hpp"
#include "sio/engine_options.hpp"
#include "sio/recovery_options.hpp"
#include "sio/room.hpp"
#include "sio/room_ref.hpp"
#include "sio/socket.hpp"

namespace sio {

struct server_options {
  /// Engine.IO settings; the path defaults to "/socket.io/" here.
  engine_options engine = [] {
    engine_options e;
    e.path = "/socket.io/";
    return e;
  }();
  /// A client that does not join any namespace within this time is closed.
  std::chrono::milliseconds connect_timeout{45000};
  /// Default timeout of broadcast acks, fetch_sockets and other requests.
  std::chrono::milliseconds request_timeout{5000};
  /// The Socket.IO parser (Node's `parser` option): socket.io-parser's JSON
  /// (default) or socket.io-msgpack-parser's MessagePack. Clients must use the
  /// same one, and so must every node of a cluster.
  wire_format parser = wire_format::json;
  /// Attachments one packet may carry, and JSON nesting depth accepted.
  std::size_t max_attachments = 10;
  int max_json_depth = 100;
  /// Members one JSON object from a client may have, and values (scalars,
  /// arrays, objects) one packet may hold; 0: no limit. Parsing is linear in
  /// the packet's size either way: these bound the memory one packet costs.
  /// A packet over either closes the session with "parse error".
  std::size_t max_json_object_members = 100000;
  std::size_t max_json_values = 1000000;
  /// Rooms one socket may be in besides its own id's; socket.join() beyond
  /// it is refused (join() returns false, a line is logged) and the socket
  /// stays connected. 0 (the default): no limit.
  std::size_t max_rooms_per_socket = 0;
  /// Namespaces dynamic matchers (io.of(regex or function)) may create in
  /// all; a CONNECT that would create one more gets Node's CONNECT_ERROR
  /// "Invalid namespace". They are never removed, so this bounds the memory
  /// clients can make the server spend on names. 0 (the default): no limit.
  std::size_t max_dynamic_namespaces = 0;
  /// Several processes as one server (off by default; see docs/cluster.md).
  cluster_options cluster;
  /// Node's connectionStateRecovery (off by default; see docs/recovery.md).
  recovery_options connection_state_recovery;
};

/// Namespace middleware: call next() to accept, next(connect_error{...}) to refuse.
using connect_middleware =
  std::function<void(socket&, std::function<void(std::optional<connect_error>)> next)>;
using connection_handler = std::function<void(socket&)>;

namespace socketio {
struct server_state;
struct handle_access;
}

/// A namespace ("/", "/admin", ...). Cheap to copy; all copies are the same namespace.
class namespace_handle {
public:
  const std::string& name() const noexcept;
  /// Runs for every connecting socket, in order, before on_connection.
  namespace_handle& use(connect_middleware middleware);
  /// Adds a handler for new sockets (several run in the order added, as Node's listeners).
  namespace_handle& on_connection(connection_handler handler);

  broadcast_operator to(const std::string& room) const { return all().to(room); }
  broadcast_operator in(const std::string& room) const { return all().to(room); }
  broadcast_operator except(const std::string& room) const { return all().except(room); }
  broadcast_operator local() const { return all().local(); }
  broadcast_operator volatile_() const { return all().volatile_(); }
  broadcast_operator timeout(std::chrono::milliseconds t) const { return all().timeout(t); }
  template <class... Ts>
  void emit(const std::string& event, Ts&&... args) const {
    all().emit(event, std::forward<Ts>(args)...);
  }
  void fetch_sockets(std::function<void(std::vector<remote_socket>)> done) const {
    all().fetch_sockets(std::move(done));
  }
  void sockets_join(const std::string& room) const { all().sockets_join(room); }
  void sockets_leave(const std::string& room) const { all().sockets_leave(room); }
  void disconnect_sockets(bool close = false) const { all().disconnect_sockets(close); }

  /// Events other server nodes send with server_side_emit; the handler runs in
  /// this namespace's adapter actor on this node (keep it short: broadcasts
  /// of the namespace wait meanwhile). Never called on a single node.
  namespace_handle& on_server_side(const std::string& event,
                                   std::function<void(json args, ack_handle ack)> handler);
  /// Sends an event (args: an array) to the other nodes of the cluster; not to
  /// this node, as Node's serverSideEmit. Nothing happens on a single node.
  void server_side_emit(const std::string& event, json args) const;
  /// The same, and `done` gets one answer per other node (its first ack
  /// argument), or "operation has timed out" with the answers that arrived.
  /// A single node answers at once with no responses. `done` runs in a helper actor.
  void server_side_emit_with_ack(const std::string& event, json args,
                                 std::chrono::milliseconds timeout,
                                 broadcast_ack_callback done) const;

  /// Room behaviour (sio/room.hpp): `setup` runs once in the actor of every
  /// named room whose name matches, when the room gets its first member on
  /// this node, and registers the room's handlers. Register before clients
  /// join: a room that exists already keeps the setups it started with.
  namespace_handle& on_room(const std::regex& pattern, room_setup setup);
  namespace_handle& on_room(std::function<bool(const std::string& room)> predicate,
                            room_setup setup);
  /// Node's adapter events ("create-room", "delete-room", "join-room",
  /// "leave-room") for named rooms on this node. They run in the room's actor
  /// (create: when it starts, before the first join; delete: after the last
  /// leave), so they never delay a broadcast. Unlike Node, a socket's own
  /// private room (named after its id) reports nothing.
  namespace_handle& on_create_room(std::function<void(const std::string& room)> handler);
  namespace_handle& on_delete_room(std::function<void(const std::string& room)> handler);
  namespace_handle& on_join_room(
    std::function<void(const std::string& room, const std::string& socket_id)> handler);
  namespace_handle& on_leave_room(
    std::function<void(const std::string& room, const std::string& socket_id)> handler);
  /// A handle to the named room `name` on this node (it need not exist yet).
  room_ref room(const std::string& name) const;

  /// Every socket of the namespace, for operators built outside any actor.
  broadcast_operator all() const;
  /// The same, with callbacks run in `self` (use inside actors).
  broadcast_operator all(caf::event_based_actor* self) const;

  /// Number of sockets connected to this namespace on this node.
  std::size_t local_socket_count() const;

private:
  friend struct socketio::handle_access;
  explicit namespace_handle(std::shared_ptr<socketio::namespace_state> ns) : ns_(std::move(ns)) {}

  std::shared_ptr<socketio::namespace_state> ns_;
};

class server {
public:
  server(caf::actor_system& sys, server_options opts = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The namespace `name`, created on first use ("/" exists from the start).
  namespace_handle of(const std::string& name);
  /// Dynamic namespaces: any name matching `pattern` is created on demand,
  /// with the middlewares and handler registered on the returned handle.
  namespace_handle of(const std::regex& pattern);
  namespace_handle of(std::function<bool(const std::string& name, const json& auth)> predicate);

  /// Shortcuts for of("/").
  namespace_handle& use(connect_middleware middleware);
  namespace_handle& on_connection(connection_handler handler);
  template <class... Ts>
  void emit(const std::string& event, Ts&&... args) {
    main_.emit(event, std::forward<Ts>(args)...);
  }
  broadcast_operator to(const std::string& room) const { return main_.to(room); }

  const server_options& options() const noexcept;
  /// The bound cluster port (0 when clustering is off).
  std::uint16_t cluster_port() const noexcept;
  /// The other members' addresses, as this node sees them now (empty on a
  /// single node). Never blocks: the cluster actor keeps the list current as
  /// members join and leave, so it is safe to call from an actor.
  std::vector<std::string> cluster_members() const;
  /// Nodes in the cluster, this one included (the cluster adapter's
  /// serverCount() in Node); 1 on a single node.
  std::size_t server_count() const;
  caf::actor_system& system() noexcept;

private:
  friend struct socketio::handle_access;

  std::shared_ptr<socketio::server_state> state_;
  namespace_handle main_;
};

} // namespace sio
