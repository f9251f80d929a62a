#include "socketio/namespace_state.hpp"

#include "cluster/node_tag.hpp"
#include "cluster/session_forwarder.hpp"
#include "cluster/websocket_relay.hpp"

#include <caf/send.hpp>

#include "socketio/adapter_actor.hpp"
#include "socketio/client_handler.hpp"
#include "util/debug_log.hpp"

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
    const auto cap = options->max_dynamic_namespaces;
    if (cap != 0 && dynamic_children >= cap) {
      util::log_line("namespace ", name, " not created: max_dynamic_namespaces (", cap,
                     ") reached");
      return nullptr; // "Invalid namespace", as for a name nothing matches
    }
    ++dynamic_children;
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

endpoint_wiring endpoint_wiring_of(const server& io) {
  auto state = io.state();
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

} // namespace sio::socketio
