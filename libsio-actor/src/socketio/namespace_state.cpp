#include "socketio/namespace_state.hpp"

#include <caf/send.hpp>

#include "socketio/adapter_actor.hpp"
#include "socketio/client_handler.hpp"

namespace sio::socketio {

namespace_state::namespace_state(caf::actor_system& s, std::string n,
                                 std::shared_ptr<const server_options> o)
  : sys(s), name(std::move(n)), options(std::move(o)), adapter(spawn_adapter(s, name)) {
}

namespace_state::~namespace_state() {
  // The adapter (and its linked room actors) ends with the namespace.
  caf::anon_send_exit(adapter, caf::exit_reason::user_shutdown);
}

std::shared_ptr<const namespace_handlers> namespace_state::handlers() const {
  std::lock_guard<std::mutex> guard{mutex};
  return handlers_;
}

server_state::server_state(caf::actor_system& s, server_options o)
  : sys(s), options(std::make_shared<const server_options>(std::move(o))) {
}

std::shared_ptr<namespace_state> server_state::get_or_create(const std::string& name) {
  std::lock_guard<std::mutex> guard{mutex};
  auto& ns = namespaces[name];
  if (!ns) {
    ns = std::make_shared<namespace_state>(sys, name, options);
    ns->cluster = cluster;
  }
  return ns;
}

std::shared_ptr<namespace_state> server_state::find(const std::string& name) {
  std::lock_guard<std::mutex> guard{mutex};
  auto i = namespaces.find(name);
  return i == namespaces.end() ? nullptr : i->second;
}

std::shared_ptr<namespace_state> server_state::find_for_connect(const std::string& name,
                                                                const json& auth) {
  std::lock_guard<std::mutex> guard{mutex};
  if (auto i = namespaces.find(name); i != namespaces.end())
    return i->second;
  for (auto& d : dynamic) {
    if (!d.matches(name, auth))
      continue;
    // Node's ParentNamespace: the child inherits the parent's handlers.
    auto child = std::make_shared<namespace_state>(sys, name, options);
    child->cluster = cluster;
    auto parent_handlers = d.parent->handlers();
    child->update_handlers([&](namespace_handlers& h) { h = *parent_handlers; });
    namespaces[name] = child;
    return child;
  }
  return nullptr;
}

engine_options engine_options_of(const server& io) {
  return io.options().engine;
}

engineio::handler_factory handler_factory_of(const server& io) {
  auto state = io.state();
  return [state] { return make_client_handler(state); };
}

} // namespace sio::socketio
