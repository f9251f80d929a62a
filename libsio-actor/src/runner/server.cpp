#include "sio/server.hpp"
#include "socketio/handle_access.hpp"

#include <optional>
#include <stdexcept>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "cluster/cluster_actor.hpp"
#include "cluster/cluster_adapter.hpp"
#include "cluster/credentials.hpp"
#include "cluster/node_tag.hpp"
#include "cluster/session_forwarder.hpp"
#include "cluster/websocket_relay.hpp"
#include "socketio/adapter.hpp"
#include "socketio/adapter_acks.hpp"
#include "socketio/namespace_state.hpp"
#include "net/engine_endpoint.hpp"
#include "socketio/run_in_actor.hpp"
#include "util/debug_log.hpp"

namespace sio {

// -- namespace_handle ---------------------------------------------------------

const std::string& namespace_handle::name() const noexcept {
  return ns_->name;
}

namespace_handle& namespace_handle::use(connect_middleware middleware) {
  ns_->update_handlers([&](socketio::namespace_handlers& h) {
    h.middlewares.push_back(std::move(middleware));
  });
  return *this;
}

namespace_handle& namespace_handle::on_connection(connection_handler handler) {
  ns_->update_handlers([&](socketio::namespace_handlers& h) {
    h.on_connection.push_back(std::move(handler));
  });
  return *this;
}

namespace_handle& namespace_handle::on_server_side(
  const std::string& event, std::function<void(json args, ack_handle ack)> handler) {
  ns_->update_handlers([&](socketio::namespace_handlers& h) {
    h.server_side[event] = std::move(handler);
  });
  return *this;
}

void namespace_handle::server_side_emit(const std::string& event, json args) const {
  // A single node's adapter drops it: there are no other servers to tell.
  caf::anon_send(ns_->adapter, socketio::server_emit_atom::value,
                 socketio::server_side_event{event, std::move(args), {}, false});
}

void namespace_handle::server_side_emit_with_ack(const std::string& event, json args,
                                                 std::chrono::milliseconds timeout,
                                                 broadcast_ack_callback done) const {
  // The cluster actor bounds each member by `timeout`.
  socketio::request_acks(ns_->sys, nullptr, ns_->adapter, timeout, std::move(done),
                         socketio::server_emit_ack_atom::value,
                         socketio::server_side_event{event, std::move(args), timeout, false});
}

namespace_handle& namespace_handle::on_room(const std::regex& pattern, room_setup setup) {
  return on_room([pattern](const std::string& room) { return std::regex_match(room, pattern); },
                 std::move(setup));
}

namespace_handle& namespace_handle::on_room(std::function<bool(const std::string&)> predicate,
                                            room_setup setup) {
  ns_->update_handlers([&](socketio::namespace_handlers& h) {
    h.rooms.push_back(socketio::room_behaviour{std::move(predicate), std::move(setup)});
  });
  return *this;
}

namespace {

bool any_room(const std::string&) {
  return true;
}

} // namespace

// Node's adapter events are room behaviour that every named room runs.
namespace_handle& namespace_handle::on_create_room(
  std::function<void(const std::string&)> handler) {
  return on_room(any_room, [handler](sio::room& r) { handler(r.name()); });
}

namespace_handle& namespace_handle::on_delete_room(
  std::function<void(const std::string&)> handler) {
  return on_room(any_room, [handler](sio::room& r) {
    r.on_delete([handler](sio::room& gone) { handler(gone.name()); });
  });
}

namespace_handle& namespace_handle::on_join_room(
  std::function<void(const std::string&, const std::string&)> handler) {
  return on_room(any_room, [handler](sio::room& r) {
    r.on_join([handler](sio::room& in, const std::string& sid) { handler(in.name(), sid); });
  });
}

namespace_handle& namespace_handle::on_leave_room(
  std::function<void(const std::string&, const std::string&)> handler) {
  return on_room(any_room, [handler](sio::room& r) {
    r.on_leave([handler](sio::room& in, const std::string& sid) { handler(in.name(), sid); });
  });
}

room_ref namespace_handle::room(const std::string& name) const {
  return socketio::handle_access::make_room_ref(ns_, name);
}

broadcast_operator namespace_handle::all() const {
  return socketio::handle_access::make_operator(ns_, nullptr);
}

broadcast_operator namespace_handle::all(caf::event_based_actor* self) const {
  return socketio::handle_access::make_operator(ns_, self);
}

std::size_t namespace_handle::local_socket_count() const {
  return ns_->socket_count.load();
}

// -- server -------------------------------------------------------------------

namespace {

void start_cluster(socketio::server_state& state, std::shared_ptr<socketio::server_state> self) {
  const auto& opts = state.options->cluster;
  if (opts.insecure) {
    util::write_stderr("sio-actor: WARNING: cluster links are NOT authenticated "
                       "(--cluster-insecure): anyone who reaches "
                       + opts.listen_host
                       + " can join the cluster, read every message and crash this node\n");
  } else if (!state.sys.has_openssl_manager()) {
    throw std::runtime_error("sio-actor: call sio::configure_cluster(cfg) before building the "
                             "actor system: cluster links need CAF's openssl module");
  } else if (auto problem = cluster::credentials_problem(state.sys.config())) {
    throw std::runtime_error("sio-actor: " + *problem);
  }
  cluster::cluster_config cfg;
  cfg.options = opts;
  std::weak_ptr<socketio::server_state> weak = self;
  // Requests from other members go to this node's adapter of their namespace.
  cfg.find_adapter = [weak](const std::string& nsp) {
    auto state = weak.lock();
    auto ns = state ? state->find(nsp) : nullptr;
    return ns ? ns->adapter : socketio::adapter_actor{};
  };
  cfg.all_adapters = [weak] {
    std::vector<socketio::adapter_actor> all;
    if (auto state = weak.lock()) {
      std::lock_guard<std::mutex> guard{state->mutex};
      for (auto& kv : state->namespaces)
        all.push_back(kv.second->adapter);
    }
    return all;
  };
  cfg.members_changed = [weak](std::vector<std::string> members) {
    if (auto state = weak.lock()) {
      std::lock_guard<std::mutex> guard{state->members_mutex};
      state->members = std::move(members);
    }
  };
  cfg.find_session = [sessions = state.sessions](const std::string& sid) {
    return sessions->find(sid);
  };
  state.cluster = cluster::spawn_cluster_actor(state.sys, std::move(cfg));
  // Every namespace gets a cluster adapter (none exists yet: "/" comes after).
  state.make_adapter = [node = state.cluster](caf::actor_system& sys,
                                              const std::shared_ptr<socketio::namespace_state>& ns) {
    return cluster::spawn_cluster_adapter(sys, ns, node);
  };
  // Over TLS, a peer's bytes reach CAF's BASP parser only after its certificate passed.
  auto port = opts.insecure ? state.sys.middleman().publish(state.cluster, opts.listen_port,
                                                            opts.listen_host.c_str(), true)
                            : caf::openssl::publish(state.cluster, opts.listen_port,
                                                    opts.listen_host.c_str(), true);
  if (!port) {
    caf::anon_send_exit(state.cluster, caf::exit_reason::user_shutdown);
    throw std::runtime_error("sio-actor: cannot publish the cluster actor on " + opts.listen_host
                             + ":" + std::to_string(opts.listen_port) + ": "
                             + state.sys.render(port.error()));
  }
  state.cluster_port = *port;
  auto address = opts.advertise.empty() ? opts.listen_host + ":" + std::to_string(*port)
                                        : opts.advertise;
  state.sid_prefix = cluster::sid_prefix(address);
  caf::anon_send(state.cluster, cluster::start_atom::value, address);
}

/// A stopping cluster node with recovery on: its sockets (closed by
/// http_server::stop()) leave their state to the adapters, which pass it to
/// the other members; wait (bounded) until it reached them, so their clients
/// recover elsewhere (a rolling restart loses nothing).
void hand_over_recovery_state(socketio::server_state& st) {
  if (!st.cluster || !st.options->connection_state_recovery.enabled)
    return;
  std::vector<std::shared_ptr<socketio::namespace_state>> all;
  {
    std::lock_guard<std::mutex> guard{st.mutex};
    for (auto& kv : st.namespaces)
      all.push_back(kv.second);
  }
  // A socket's state is in its adapter's mailbox before the count drops.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
  for (auto& ns : all)
    while (ns->socket_count > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
  caf::scoped_actor self{st.sys};
  for (auto& ns : all)
    self->request(ns->adapter, std::chrono::seconds{3}, socketio::flush_atom::value)
      .receive([](bool) {}, [](caf::error&) {});
}

} // namespace

server::server(caf::actor_system& sys, server_options opts)
  : state_(std::make_shared<socketio::server_state>(sys, std::move(opts))),
    main_(socketio::handle_access::make_namespace_handle(nullptr)) {
  if (state_->options->cluster.enabled)
    start_cluster(*state_, state_);
  main_ = socketio::handle_access::make_namespace_handle(state_->get_or_create("/"));
}

server::~server() {
  hand_over_recovery_state(*state_);
  // Adapters stop with the server; sockets stop
  // with their sessions (http_server::stop()).
  std::lock_guard<std::mutex> guard{state_->mutex};
  // Handlers often capture namespace handles: dropping them breaks that cycle.
  auto stop = [](socketio::namespace_state& ns) {
    ns.update_handlers([](socketio::namespace_handlers& h) { h = {}; });
    caf::anon_send_exit(ns.adapter, caf::exit_reason::user_shutdown);
  };
  for (auto& [name, ns] : state_->namespaces)
    stop(*ns);
  for (auto& d : state_->dynamic)
    stop(*d.parent);
  if (state_->cluster) {
    // A published actor left running keeps ~actor_system waiting forever.
    // Either transport's doorman belongs to the one BASP broker, which this closes
    // (caf::openssl::unpublish does not compile in CAF 0.17.6).
    state_->sys.middleman().unpublish(state_->cluster, state_->cluster_port);
    caf::anon_send_exit(state_->cluster, caf::exit_reason::user_shutdown);
  }
}

std::uint16_t server::cluster_port() const noexcept {
  return state_->cluster_port;
}

std::vector<std::string> server::cluster_members() const {
  std::lock_guard<std::mutex> guard{state_->members_mutex};
  return state_->members;
}

std::size_t server::server_count() const {
  return cluster_members().size() + 1;
}

namespace_handle server::of(const std::string& name) {
  auto n = name.empty() || name.front() != '/' ? "/" + name : name;
  return socketio::handle_access::make_namespace_handle(state_->get_or_create(n));
}

namespace_handle server::of(const std::regex& pattern) {
  return of([pattern](const std::string& name, const json&) {
    return std::regex_match(name, pattern);
  });
}

namespace_handle server::of(std::function<bool(const std::string&, const json&)> predicate) {
  // The parent is not itself reachable by clients; it only carries handlers.
  auto parent = socketio::namespace_state::create(state_->sys, "<dynamic>", state_->options);
  std::lock_guard<std::mutex> guard{state_->mutex};
  state_->dynamic.push_back({std::move(predicate), parent});
  return socketio::handle_access::make_namespace_handle(parent);
}

namespace_handle& server::use(connect_middleware middleware) {
  return main_.use(std::move(middleware));
}

namespace_handle& server::on_connection(connection_handler handler) {
  return main_.on_connection(std::move(handler));
}

const server_options& server::options() const noexcept {
  return *state_->options;
}

caf::actor_system& server::system() noexcept {
  return state_->sys;
}

// -- what http_server::serve(server&) mounts ------------------------------------

namespace net {

namespace {

endpoint_wiring endpoint_wiring_of(const server& io) {
  auto state = socketio::handle_access::state(io);
  endpoint_wiring w;
  w.sessions = state->sessions;
  w.sid_prefix = state->sid_prefix;
  if (state->cluster) {
    auto& sys = state->sys;
    auto cluster = state->cluster;
    auto own_tag = cluster::tag_of_prefix(state->sid_prefix);
    // Long enough for a parked GET: the session answers within a ping interval.
    auto timeout = state->options->engine.ping_interval + state->options->engine.ping_timeout;
    // A sid another member owns (not one from outside any cluster, nor ours and gone).
    auto elsewhere = [own_tag](const std::string& sid) {
      auto tag = cluster::tag_of_sid(sid);
      return !tag.empty() && tag != own_tag;
    };
    w.forward = [&sys, cluster, elsewhere, timeout](
                  const std::string& sid, bool is_post, std::string body,
                  std::shared_ptr<engineio::poll_responder> responder) {
      if (!elsewhere(sid))
        return false;
      cluster::forward_request(sys, cluster,
                               {sid, is_post, std::move(body), std::move(responder), timeout});
      return true;
    };
    w.forward_ws = [&sys, cluster, elsewhere](const std::string& sid)
      -> std::function<void(std::shared_ptr<engineio::ws_channel>)> {
      if (!elsewhere(sid))
        return nullptr;
      return [&sys, cluster, sid](std::shared_ptr<engineio::ws_channel> ws) {
        cluster::relay_websocket(sys, cluster, sid, std::move(ws));
      };
    };
  }
  return w;
}

} // namespace

socketio_endpoint socketio_endpoint_of(const server& io) {
  return {io.options().engine, socketio::handler_factory_of(io), endpoint_wiring_of(io)};
}

} // namespace net

} // namespace sio
