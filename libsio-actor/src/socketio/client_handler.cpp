#include "socketio/client_handler.hpp"

#include <map>
#include <optional>

#include <caf/all.hpp>

#include "engineio/id_generator.hpp"
#include "socketio/adapter.hpp"
#include "socketio/atoms.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/socket_actor.hpp"
#include "socketio/wire.hpp"
#include "util/debug_log.hpp"
#include "util/url.hpp"

namespace sio::socketio {

namespace {

class client_handler final : public engineio::session_handler {
public:
  explicit client_handler(std::shared_ptr<server_state> s)
    : server_(std::move(s)),
      decoder_(limits_of(*server_->options), server_->options->parser) {
  }

  void on_open(engineio::session_context& ctx) override {
    ctx.self()->delayed_send(ctx.self(), server_->options->connect_timeout,
                             connect_timeout_atom::value);
    // Socket.IO v2 clients never send CONNECT for "/": Node connects them at
    // once (Server#onconnection: if (conn.protocol === 3) client.connect("/")).
    if (ctx.protocol() == 3)
      connect(ctx, packet{packet_type::connect, "/", {}, {}});
  }

  void on_message(engineio::session_context& ctx, const engineio::packet& p) override {
    auto status = p.is_binary() ? decoder_.feed_binary(p.data()) : decoder_.feed_text(p.data());
    if (status == decoder::status::need_binary)
      return;
    if (status == decoder::status::error) {
      util::log_line("closing session ", ctx.sid(), " after a malformed packet: ",
                     decoder_.error());
      ctx.close_session("parse error");
      return;
    }
    on_packet(ctx, decoder_.take());
  }

  void on_close(engineio::session_context&, const std::string& reason) override {
    for (auto& [name, entry] : sockets_)
      if (entry.socket) // none yet while its recovery is looked up
        caf::anon_send(entry.socket, engine_closed_atom::value, reason);
    sockets_.clear();
  }

  caf::message_handler extra_behavior(engineio::session_context& ctx) override {
    auto* c = &ctx;
    return {
      // Each marks the state and writes the packet that tells the client, in
      // one step: the client may answer that packet at once.
      [this, c](socket_connected_atom, const std::string& nsp,
                std::vector<engineio::packet_ptr>& connect_packets) {
        if (auto i = sockets_.find(nsp); i != sockets_.end()) {
          i->second.connected = true;
          i->second.next_connect.reset(); // a CONNECT to a joined namespace is ignored
        }
        c->write(std::move(connect_packets), false);
      },
      [this, c](socket_gone_atom, const std::string& nsp, bool close,
                std::vector<engineio::packet_ptr>& last_packets) {
        std::optional<packet> next;
        if (auto i = sockets_.find(nsp); i != sockets_.end()) {
          next = std::move(i->second.next_connect);
          sockets_.erase(i);
        }
        c->write(std::move(last_packets), false);
        if (close) {
          // Node's socket.disconnect(true) (client._disconnect()): every other
          // namespace gets its DISCONNECT packet before the connection closes.
          for (auto& [name, entry] : sockets_) {
            if (entry.connected)
              c->write(to_engine_packets(server_->options->parser,
                                         packet{packet_type::disconnect, name, {}, {}}),
                       false);
            if (entry.socket)
              caf::anon_send(entry.socket, engine_closed_atom::value,
                             std::string{"server namespace disconnect"});
          }
          sockets_.clear();
          c->close_session("forced server close");
          return;
        }
        if (next) // refused (or left) while another CONNECT waited: that one's turn
          connect(*c, std::move(*next));
      },
      [this, c](connect_timeout_atom) {
        bool any = false;
        for (auto& kv : sockets_)
          any = any || kv.second.connected;
        if (!any)
          c->close_session("forced close");
      },
    };
  }

private:
  static decoder_limits limits_of(const server_options& o) {
    decoder_limits l;
    l.max_attachments = o.max_attachments;
    l.max_depth = o.max_json_depth;
    l.max_object_members = o.max_json_object_members;
    l.max_values = o.max_json_values;
    return l;
  }

  struct socket_entry {
    caf::actor socket;
    bool connected = false;
    /// The last CONNECT to this namespace that came while its middlewares
    /// ran: tried once they refused. Only the last is kept, so a burst of
    /// CONNECTs costs one middleware run at a time and the newest is not lost.
    std::optional<packet> next_connect;
  };

  void on_packet(engineio::session_context& ctx, packet p) {
    if (p.type == packet_type::connect) {
      connect(ctx, std::move(p));
      return;
    }
    if (ctx.protocol() == 3)
      take_query(p); // as Node, for every packet of a v2 client
    auto i = sockets_.find(p.nsp);
    if (i == sockets_.end() || !i->second.connected) {
      // Node ignores packets for a namespace the client is not in
      util::debug_log("session ", ctx.sid(), ": packet type ", static_cast<int>(p.type),
                      " for namespace ", p.nsp, " dropped (", i == sockets_.end() ? "not in it" : "not connected yet", ")");
      return;
    }
    auto socket = i->second.socket;
    if (p.type == packet_type::disconnect)
      sockets_.erase(i);
    ctx.self()->send(socket, client_packet_atom::value, std::move(p));
  }

  void connect(engineio::session_context& ctx, packet p) {
    bool v2_client = ctx.protocol() == 3;
    // A v2 client's auth is its query (stripped here, so a CONNECT retried
    // from next_connect keeps what it had).
    if (v2_client && (!p.data || p.nsp.find('?') != std::string::npos))
      p.data = take_query(p);
    if (auto i = sockets_.find(p.nsp); i != sockets_.end()) {
      if (!i->second.connected)
        i->second.next_connect = std::move(p);
      return;
    }
    json auth = p.data ? std::move(*p.data) : json::object();
    auto ns = server_->find_for_connect(p.nsp, auth);
    if (!ns) {
      json body = json::object();
      body["message"] = "Invalid namespace";
      ctx.write(to_engine_packets(server_->options->parser,
                                  packet{packet_type::connect_error, p.nsp, {}, std::move(body)}));
      return;
    }
    socket_config cfg;
    // A v2 client makes its socket id itself ("/nsp#" + engine id, or the
    // engine id for "/"), so Node gives it that id.
    cfg.id = !v2_client      ? engineio::generate_id()
             : p.nsp == "/" ? ctx.sid()
                            : p.nsp + "#" + ctx.sid();
    cfg.v2_client = v2_client;
    cfg.ns = ns;
    cfg.session = caf::actor_cast<caf::actor>(ctx.self());
    cfg.handshake = ctx.shared_handshake();
    // A v2 client never learns a pid (its CONNECT answer has no payload).
    // In a cluster it starts with this node's tag, as sids do: the node a
    // client comes back to knows whom to ask for its state.
    if (ns->options->connection_state_recovery.enabled && !v2_client)
      cfg.pid = server_->sid_prefix + engineio::generate_id();
    // Node's client sends both once it has received an event with an offset.
    std::string old_pid;
    bool wants_recovery = false;
    if (!cfg.pid.empty() && auth.is_object()) {
      auto pid = auth.find("pid");
      auto offset = auth.find("offset");
      wants_recovery = pid != auth.end() && pid->is_string() && offset != auth.end()
                       && offset->is_string();
      if (wants_recovery) {
        old_pid = pid->get<std::string>();
        cfg.offset = offset->get<std::string>();
      }
    }
    if (auth != cfg.handshake->auth) {
      auto own = std::make_shared<sio::handshake>(*cfg.handshake);
      own->auth = std::move(auth);
      cfg.handshake = std::move(own);
    }
    if (!wants_recovery) {
      sockets_[p.nsp] = socket_entry{spawn_socket(ctx.self(), std::move(cfg)), false, std::nullopt};
      return;
    }
    // Node's restoreSession(pid, offset): the adapter has the state it left,
    // or not (unknown, expired, its events dropped): then a fresh socket.
    auto nsp = p.nsp;
    sockets_[nsp] = socket_entry{};
    auto* c = &ctx;
    auto adapter = ns->adapter;
    auto done = [this, c, nsp, cfg, adapter](std::optional<persisted_session> restored) mutable {
      auto i = sockets_.find(nsp);
      if (i == sockets_.end() || i->second.socket) {
        // The session closed meanwhile: the state goes back, for the client's next try.
        if (restored)
          caf::anon_send(adapter, persist_atom::value, std::move(*restored));
        return;
      }
      if (restored) {
        cfg.id = restored->sid;
        cfg.pid = restored->pid;
        cfg.restored = std::move(restored);
      }
      i->second.socket = spawn_socket(c->self(), std::move(cfg));
    };
    ctx.self()
      // In a cluster: the node that has it, then (if it is gone) the others: two
      // requests of request_timeout each at most.
      ->request(ns->adapter, 2 * server_->options->request_timeout + std::chrono::seconds{2},
                restore_atom::value,
                old_pid, cfg.offset)
      .then([done](std::optional<persisted_session>& restored) mutable { done(std::move(restored)); },
            [done](caf::error&) mutable { done(std::nullopt); });
  }

  /// A v2 client sends no auth; its namespace's query string stands in for
  /// it (Node's _parseNamespace): "/chat?token=1" is "/chat" with {"token":"1"}.
  static json take_query(packet& p) {
    json auth = json::object();
    auto q = p.nsp.find('?');
    if (q == std::string::npos)
      return auth;
    for (auto& [key, value] : util::parse_target(p.nsp).query)
      auth[key] = value;
    p.nsp.resize(q);
    return auth;
  }

  std::shared_ptr<server_state> server_;
  decoder decoder_;
  std::map<std::string, socket_entry> sockets_;
};

} // namespace

std::unique_ptr<engineio::session_handler> make_client_handler(std::shared_ptr<server_state> s) {
  return std::make_unique<client_handler>(std::move(s));
}

} // namespace sio::socketio
