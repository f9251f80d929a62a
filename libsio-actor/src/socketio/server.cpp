#include "sio/server.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "socketio/namespace_state.hpp"

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

void namespace_handle::server_side_emit(const std::string&, json) const {
  // A single node has no other servers to tell (Node: serverSideEmit only
  // reaches the *other* servers of a cluster). The cluster adapter extends this.
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

server::server(caf::actor_system& sys, server_options opts)
  : state_(std::make_shared<socketio::server_state>(sys, std::move(opts))),
    main_(state_->get_or_create("/")) {
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
