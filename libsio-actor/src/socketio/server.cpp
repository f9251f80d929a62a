#include "sio/server.hpp"

#include <optional>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/send.hpp>

#include "cluster/cluster_actor.hpp"
#include "cluster/credentials.hpp"
#include "cluster/node_tag.hpp"
#include "cluster/socket_info.hpp"
#include "engineio/atoms.hpp"
#include "socketio/atoms.hpp"
#include "socketio/run_in_actor.hpp"

#include "socketio/namespace_state.hpp"
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
  if (!ns_->cluster)
    return; // a single node has no other servers to tell
  caf::anon_send(ns_->cluster, cluster::server_emit_atom::value,
                 cluster::server_event{ns_->name, event, cluster::to_bytes(args), 0});
}

void namespace_handle::server_side_emit_with_ack(const std::string& event, json args,
                                                 std::chrono::milliseconds timeout,
                                                 broadcast_ack_callback done) const {
  if (!ns_->cluster) {
    if (done)
      done(broadcast_ack_result{});
    return;
  }
  cluster::server_event ev{ns_->name, event, cluster::to_bytes(args), timeout.count()};
  auto node = ns_->cluster;
  socketio::run_in_actor(ns_->sys, nullptr, [=](caf::event_based_actor* self) {
    // The cluster actor bounds each member by `timeout`; this is a backstop.
    self->request(node, timeout + std::chrono::seconds{1}, cluster::server_emit_ack_atom::value, ev)
      .then(
        [=](std::vector<std::string>& answers, bool all_answered) {
          broadcast_ack_result result;
          if (!all_answered)
            result.error = "operation has timed out";
          for (auto& a : answers) {
            auto value = cluster::from_bytes(a);
            result.responses.push_back(value.is_array() && !value.empty() ? value[0] : json());
          }
          if (done)
            done(std::move(result));
        },
        [=](caf::error&) {
          if (done)
            done(broadcast_ack_result{"operation has timed out", {}});
        });
  });
}

broadcast_operator namespace_handle::all() const {
  return broadcast_operator{ns_, nullptr};
}

broadcast_operator namespace_handle::all(caf::event_based_actor* self) const {
  return broadcast_operator{ns_, self};
}

std::size_t namespace_handle::local_socket_count() const {
  return ns_->socket_count.load();
}

// -- server -------------------------------------------------------------------

namespace {

/// Hands a broadcast from another node to this node's adapter of that namespace.
void deliver_remote(const std::weak_ptr<socketio::server_state>& weak,
                    const cluster::remote_broadcast& rb) {
  auto state = weak.lock();
  if (!state)
    return;
  auto ns = state->find(rb.nsp);
  if (!ns)
    return; // nobody can be connected to a namespace this node never created
  std::vector<engineio::packet_ptr> packets;
  for (auto& p : rb.packets)
    packets.push_back(
      std::make_shared<const engineio::packet>(engineio::packet::from_wire(p.wire, p.binary)));
  socketio::broadcast_target target{{rb.rooms.begin(), rb.rooms.end()},
                                    {rb.except.begin(), rb.except.end()},
                                    rb.is_volatile};
  caf::anon_send(ns->adapter, socketio::broadcast_atom::value, std::move(target),
                 caf::make_message(engineio::send_atom::value, std::move(packets), rb.is_volatile));
}

/// This node's sockets selected by a request from another node.
std::optional<broadcast_operator> local_selection(const std::weak_ptr<socketio::server_state>& weak,
                                                  const cluster::node_request& req,
                                                  caf::event_based_actor* self) {
  auto state = weak.lock();
  if (!state)
    return std::nullopt;
  auto ns = state->find(req.nsp);
  if (!ns)
    return std::nullopt;
  return broadcast_operator{ns, self}.to(req.rooms).except(req.except).local();
}

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
  cfg.deliver = [weak](const cluster::remote_broadcast& rb) { deliver_remote(weak, rb); };
  cfg.local_fetch = [weak](caf::event_based_actor* self, const cluster::node_request& req,
                           std::function<void(std::vector<cluster::socket_info>)> done) {
    auto op = local_selection(weak, req, self);
    if (!op) {
      done({});
      return;
    }
    op->fetch_local(self, [done](std::vector<remote_socket> sockets) {
      std::vector<cluster::socket_info> infos;
      for (auto& s : sockets)
        infos.push_back(cluster::to_socket_info(s));
      done(std::move(infos));
    });
  };
  cfg.local_event = [weak](const cluster::server_event& ev,
                           std::function<void(std::string)> ack) {
    auto state = weak.lock();
    auto ns = state ? state->find(ev.nsp) : nullptr;
    if (!ns)
      return false;
    auto handlers = ns->handlers();
    auto i = handlers->server_side.find(ev.event);
    if (i == handlers->server_side.end())
      return false;
    ack_handle reply;
    if (ack)
      reply = ack_handle{[ack](json a) { ack(cluster::to_bytes(a)); }};
    try {
      i->second(cluster::from_bytes(ev.args), reply);
    } catch (const std::exception& e) {
      util::log_line("server-side handler '", ev.event, "' threw: ", e.what());
    }
    return true;
  };
  cfg.local_ack_broadcast = [weak](caf::event_based_actor* self, const cluster::ack_broadcast& req,
                                   std::function<void(std::vector<std::string>, bool)> done) {
    auto state = weak.lock();
    auto ns = state ? state->find(req.nsp) : nullptr;
    if (!ns) {
      done({}, true);
      return;
    }
    broadcast_operator{ns, self}
      .to(req.rooms)
      .except(req.except)
      .local()
      .timeout(std::chrono::milliseconds{req.timeout_ms})
      .emit_with_ack(req.event, cluster::from_bytes(req.args), [done](broadcast_ack_result r) {
        std::vector<std::string> answers;
        for (auto& a : r.responses)
          answers.push_back(cluster::to_bytes(a));
        done(std::move(answers), r.ok());
      });
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
  cfg.local_bulk = [weak](const cluster::node_request& req) {
    auto op = local_selection(weak, req, nullptr);
    if (!op)
      return;
    if (req.op == "join")
      op->sockets_join(req.room_args);
    else if (req.op == "leave")
      for (auto& room : req.room_args)
        op->sockets_leave(room);
    else if (req.op == "disconnect")
      op->disconnect_sockets(req.close);
  };
  state.cluster = cluster::spawn_cluster_actor(state.sys, std::move(cfg));
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

} // namespace

server::server(caf::actor_system& sys, server_options opts)
  : state_(std::make_shared<socketio::server_state>(sys, std::move(opts))),
    main_(nullptr) {
  if (state_->options->cluster.enabled)
    start_cluster(*state_, state_);
  main_ = namespace_handle{state_->get_or_create("/")};
}

server::~server() {
  // Adapters (and their linked room actors) stop with the server; sockets stop
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
  return namespace_handle{state_->get_or_create(n)};
}

namespace_handle server::of(const std::regex& pattern) {
  return of([pattern](const std::string& name, const json&) {
    return std::regex_match(name, pattern);
  });
}

namespace_handle server::of(std::function<bool(const std::string&, const json&)> predicate) {
  // The parent is not itself reachable by clients; it only carries handlers.
  auto parent = std::make_shared<socketio::namespace_state>(state_->sys, "<dynamic>",
                                                            state_->options);
  std::lock_guard<std::mutex> guard{state_->mutex};
  state_->dynamic.push_back({std::move(predicate), parent});
  return namespace_handle{parent};
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

} // namespace sio
