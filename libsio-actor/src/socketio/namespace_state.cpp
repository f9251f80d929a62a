#include "socketio/namespace_state.hpp"
#include "socketio/handle_access.hpp"

#include <caf/send.hpp>

#include "socketio/local_adapter.hpp"
#include "socketio/client_handler.hpp"
#include "util/debug_log.hpp"

namespace sio::socketio {

namespace_state::namespace_state(caf::actor_system& s, std::string n,
                                 std::shared_ptr<const server_options> o)
  : sys(s), name(std::move(n)), options(std::move(o)) {
}

std::shared_ptr<namespace_state> namespace_state::create(caf::actor_system& s, std::string n,
                                                         std::shared_ptr<const server_options> o,
                                                         const adapter_factory& make_adapter) {
  auto ns = std::make_shared<namespace_state>(s, std::move(n), std::move(o));
  // After construction: the adapter keeps a weak pointer to its namespace.
  ns->adapter = make_adapter ? make_adapter(s, ns) : spawn_local_adapter(s, ns);
  return ns;
}

namespace_state::~namespace_state() {
  // The adapter ends with the namespace.
  caf::anon_send_exit(adapter, caf::exit_reason::user_shutdown);
}

std::shared_ptr<const namespace_handlers> namespace_state::handlers() const {
  std::lock_guard<std::mutex> guard{mutex};
  return handlers_;
}

server_state::server_state(caf::actor_system& s, server_options o)
  : sys(s), options(std::make_shared<const server_options>(std::move(o))) {
}

std::shared_ptr<namespace_state> server_state::make_namespace(const std::string& name) {
  return namespace_state::create(sys, name, options, make_adapter);
}

std::shared_ptr<namespace_state> server_state::get_or_create(const std::string& name) {
  std::lock_guard<std::mutex> guard{mutex};
  auto& ns = namespaces[name];
  if (!ns)
    ns = make_namespace(name);
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
    const auto cap = options->max_dynamic_namespaces;
    if (cap != 0 && dynamic_children >= cap) {
      util::log_line("namespace ", name, " not created: max_dynamic_namespaces (", cap,
                     ") reached");
      return nullptr; // "Invalid namespace", as for a name nothing matches
    }
    ++dynamic_children;
    // Node's ParentNamespace: the child inherits the parent's handlers.
    auto child = make_namespace(name);
    auto parent_handlers = d.parent->handlers();
    child->update_handlers([&](namespace_handlers& h) { h = *parent_handlers; });
    namespaces[name] = child;
    return child;
  }
  return nullptr;
}

engineio::handler_factory handler_factory_of(const server& io) {
  auto state = handle_access::state(io);
  return [state] { return make_client_handler(state); };
}

} // namespace sio::socketio
