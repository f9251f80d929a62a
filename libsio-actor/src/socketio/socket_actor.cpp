#include "socketio/socket_actor.hpp"
#include "socketio/handle_access.hpp"

#include <algorithm>
#include <utility>

#include <caf/all.hpp>

#include "engineio/atoms.hpp"
#include "sio/messages.hpp"
#include "socketio/adapter.hpp"
#include "sio/socket.hpp"
#include "socketio/atoms.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/wire.hpp"
#include "util/debug_log.hpp"
#include "util/unexpected_message.hpp"
#include "util/msgpack.hpp"

namespace sio::socketio {

namespace {

const std::string disconnected_error = "socket has been disconnected";
const std::string timeout_error = "operation has timed out";

/// JavaScript's truthiness, for Node's `err.data || err.message`.
bool is_truthy(const json& v) {
  if (v.is_null())
    return false;
  if (v.is_boolean())
    return v.get<bool>();
  if (v.is_number())
    return v.get<double>() != 0; // NaN cannot come from JSON
  if (v.is_string())
    return !v.get_ref<const std::string&>().empty();
  return true;
}

/// A handler and the id off() removes it by.
template <class F>
struct registered {
  handler_id id;
  F fn;
  bool once = false;
};

template <class F>
using handler_list = std::vector<registered<F>>;

/// Removes the entry `id`; true if there was one.
template <class F>
bool remove_handler(handler_list<F>& list, handler_id id) {
  auto i = std::find_if(list.begin(), list.end(), [id](const auto& r) { return r.id == id; });
  if (i == list.end())
    return false;
  list.erase(i);
  return true;
}

/// Pending answer to an ack we asked a client for.
struct pending_ack {
  ack_callback callback;            // our own emit_with_ack ...
  caf::response_promise promise;    // ... or a broadcast ack someone requested
  bool is_promise = false;
};

class socket_actor final : public caf::event_based_actor, public sio::socket {
public:
  socket_actor(caf::actor_config& cfg, socket_config sc)
    : caf::event_based_actor(cfg), cfg_(std::move(sc)), handlers_(cfg_.ns->handlers()),
      recovery_(!cfg_.pid.empty()),
      replicated_(recovery_ && cfg_.ns->options->cluster.enabled) {
    if (cfg_.restored) {
      data_ = cfg_.restored->data;
      generation_ = cfg_.restored->generation + 1;
      born_ms_ = cfg_.restored->born_ms;
    }
  }

  // -- sio::socket ------------------------------------------------------------

  const std::string& id() const noexcept override { return cfg_.id; }
  const std::string& nsp() const noexcept override { return cfg_.ns->name; }
  wire_format format() const noexcept { return cfg_.ns->options->parser; }
  const sio::handshake& handshake() const noexcept override { return *cfg_.handshake; }
  json& data() noexcept override { return data_; }
  bool connected() const noexcept override { return connected_; }
  bool recovered() const noexcept override { return cfg_.restored.has_value(); }

  handler_id on(const std::string& event, event_handler handler) override {
    return add(event_handlers_[event], std::move(handler));
  }
  handler_id once(const std::string& event, event_handler handler) override {
    return add(event_handlers_[event], std::move(handler), false, true);
  }
  void off(const std::string& event) override { event_handlers_.erase(event); }
  void off(const std::string& event, handler_id id) override {
    auto i = event_handlers_.find(event);
    if (i != event_handlers_.end() && remove_handler(i->second, id) && i->second.empty())
      event_handlers_.erase(i);
  }
  handler_id on_any(event_handler handler) override { return add(any_handlers_, std::move(handler)); }
  handler_id prepend_any(event_handler handler) override {
    return add(any_handlers_, std::move(handler), true);
  }
  void off_any() override { any_handlers_.clear(); }
  void off_any(handler_id id) override { remove_handler(any_handlers_, id); }
  handler_id on_any_outgoing(outgoing_handler handler) override {
    return add(outgoing_handlers_, std::move(handler));
  }
  handler_id prepend_any_outgoing(outgoing_handler handler) override {
    return add(outgoing_handlers_, std::move(handler), true);
  }
  void off_any_outgoing() override { outgoing_handlers_.clear(); }
  void off_any_outgoing(handler_id id) override { remove_handler(outgoing_handlers_, id); }
  void on_disconnecting(disconnect_handler h) override { disconnecting_.push_back(std::move(h)); }
  void on_disconnect(disconnect_handler h) override { disconnect_.push_back(std::move(h)); }
  void on_error(std::function<void(sio::socket&, const std::string&)> h) override {
    error_handlers_.push_back(std::move(h));
  }
  void use(packet_middleware mw) override { packet_middlewares_.push_back(std::move(mw)); }
  void forward_events_to(caf::actor target) override { forward_to_ = std::move(target); }

  void emit_args(const std::string& event, json args) override {
    bool is_volatile = std::exchange(volatile_next_, false);
    if (!connected_)
      return;
    notify_outgoing(event, args);
    // A volatile event may be dropped, so it takes no offset (as a volatile
    // broadcast): it is not kept for replay.
    if (!recovery_ || is_volatile) {
      write(make_event(format(), nsp(), event, args), is_volatile);
      return;
    }
    // As Node: through the adapter, which numbers it and keeps it for replay.
    broadcast_target own;
    own.rooms = {cfg_.id};
    own.local = true;
    send(cfg_.ns->adapter, emit_event_atom::value, std::move(own),
         event_emit{event, std::move(args), {}, 0});
  }

  void emit_with_ack(const std::string& event, json args, std::chrono::milliseconds timeout,
                     ack_callback done) override {
    bool is_volatile = std::exchange(volatile_next_, false);
    if (!connected_) {
      if (done)
        done(ack_result{disconnected_error, json::array()});
      return;
    }
    notify_outgoing(event, args);
    auto id = cfg_.ns->next_ack_id++;
    acks_[id] = pending_ack{std::move(done), {}, false};
    delayed_send(this, timeout, ack_timeout_atom::value, id);
    write(make_event(format(), nsp(), event, args, id), is_volatile);
  }

  sio::socket& volatile_() override {
    volatile_next_ = true;
    return *this;
  }
  sio::socket& compress(bool) override { return *this; } // permessage-deflate is off

  bool join(const std::string& room) override { return join(std::vector<std::string>{room}); }
  bool join(const std::vector<std::string>& rooms) override {
    std::vector<std::string> added;
    const auto cap = cfg_.ns->options->max_rooms_per_socket;
    std::size_t refused = 0;
    for (auto& r : rooms) {
      if (rooms_.count(r))
        continue;
      // The socket's own room (its id) does not count against the cap.
      if (cap != 0 && r != cfg_.id && rooms_.size() - rooms_.count(cfg_.id) >= cap) {
        ++refused;
        continue;
      }
      rooms_.insert(r);
      rooms_changed_ = true;
      added.push_back(r);
    }
    if (!added.empty() && connected_)
      send(cfg_.ns->adapter, join_atom::value, cfg_.id, std::move(added));
    if (refused > 0)
      util::log_line("socket ", cfg_.id, " on ", nsp(), ": join of ", refused,
                     " room(s) refused, max_rooms_per_socket (", cap, ") reached");
    return refused == 0;
  }
  void leave(const std::string& room) override {
    if (rooms_.erase(room) && connected_) {
      rooms_changed_ = true;
      send(cfg_.ns->adapter, leave_atom::value, cfg_.id, room);
    }
  }
  const std::set<std::string>& rooms() const noexcept override { return rooms_; }

  broadcast_operator to(const std::string& room) override { return broadcast().to(room); }
  broadcast_operator except(const std::string& room) override {
    return broadcast().except(room);
  }
  broadcast_operator broadcast() override {
    return handle_access::make_operator(cfg_.ns, this, {cfg_.id});
  }

  void disconnect(bool close) override {
    if (!connected_)
      return;
    leave_session(to_engine_packets(format(), packet{packet_type::disconnect, nsp(), {}, {}}), close);
    finish("server namespace disconnect");
  }

  socket_ref ref() const override {
    return socket_ref{caf::actor_cast<caf::actor>(const_cast<socket_actor*>(this)), cfg_.id,
                      cfg_.ns->name};
  }
  caf::event_based_actor* self() noexcept override { return this; }

  // -- actor -----------------------------------------------------------------

  caf::behavior make_behavior() override {
    set_default_handler(util::log_unexpected);
    run_middleware(0);
    return {
      [=](middleware_next_atom, std::size_t index, std::optional<connect_error>& err) {
        if (err)
          refuse(*err);
        else
          run_middleware(index);
      },
      [=](client_packet_atom, packet& p) {
        on_packet(p);
        checkpoint();
      },
      [=](engine_closed_atom, const std::string& reason) { finish(reason); },
      [=](emit_atom, const std::string& event, const std::string& args) {
        emit_args(event, util::from_bytes(args)); // from a socket_ref, maybe on another node
      },
      // socket_ref::emit_with_ack, maybe from another node: answers
      // (error, ack args as bytes) once the client answers, the timeout
      // passes or the socket disconnects.
      [=](emit_ack_atom, const std::string& event, const std::string& args,
          caf::timespan timeout) {
        auto rp = make_response_promise();
        emit_with_ack(event, util::from_bytes(args),
                      std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
                      [rp](ack_result r) mutable { rp.deliver(r.error, util::to_bytes(r.args)); });
      },
      [=](join_atom, const std::vector<std::string>& rooms) {
        join(rooms);
        checkpoint();
      },
      [=](leave_atom, const std::string& room) {
        leave(room);
        checkpoint();
      },
      [=](disconnect_atom, bool close) { disconnect(close); },
      [=](fetch_atom) -> remote_socket {
        return remote_socket{cfg_.id, *cfg_.handshake, rooms_, data_, ref()};
      },
      [=](ack_request_atom, std::uint64_t id, std::vector<engineio::packet_ptr>& packets,
          std::chrono::milliseconds timeout) {
        auto rp = make_response_promise();
        if (!connected_) {
          rp.deliver(caf::make_error(caf::sec::request_receiver_down));
          return;
        }
        acks_[id] = pending_ack{{}, rp, true};
        // The requester stops waiting then; forget the entry too, or a client
        // that never answers would make it grow.
        delayed_send(this, timeout, ack_timeout_atom::value, id);
        write(std::move(packets));
      },
      [=](ack_timeout_atom, std::uint64_t id) {
        auto i = acks_.find(id);
        if (i == acks_.end())
          return;
        auto pending = std::move(i->second);
        acks_.erase(i);
        if (pending.is_promise)
          pending.promise.deliver(caf::make_error(caf::sec::request_timeout));
        else if (pending.callback)
          guarded("ack callback", [&] { pending.callback(ack_result{timeout_error, json::array()}); });
        checkpoint();
      },
      [=](packet_middleware_next_atom, std::size_t index, std::shared_ptr<sio::event>& ev,
          std::optional<std::string>& err) {
        if (!connected_)
          return;
        if (err) {
          for (auto& h : error_handlers_)
            guarded("error handler", [&] { h(*this, *err); });
          return;
        }
        run_packet_middleware(index, std::move(*ev));
        checkpoint();
      },
    };
  }

  void on_exit() override {
    if (!connected_)
      return;
    // Ended from outside (server stop) or by a failure: the client and the
    // session must not keep a socket that is gone.
    leave_session(to_engine_packets(format(), packet{packet_type::disconnect, nsp(), {}, {}}), false);
    finish("server shutting down");
  }

private:
  /// Runs application code: an exception is logged and stops there, so one
  /// faulty handler cannot take the socket (or the process) down.
  template <class F>
  void guarded(const char* what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      util::log_line(what, " of socket ", cfg_.id, " on ", nsp(), " threw: ",
                     std::string{e.what()});
    } catch (...) {
      util::log_line(what, " of socket ", cfg_.id, " on ", nsp(),
                     " threw a non-standard exception");
    }
  }

  /// Everything for the session goes through here. With recovery on it
  /// takes the adapter's path (relay_atom), the one our numbered events take
  /// (emit_args), so the client sees all in the order we wrote it.
  template <class... Ts>
  void to_session(Ts&&... xs) {
    if (recovery_)
      send(cfg_.ns->adapter, relay_atom::value, cfg_.session,
           caf::make_message(std::forward<Ts>(xs)...));
    else
      send(cfg_.session, std::forward<Ts>(xs)...);
  }

  void write(std::vector<engineio::packet_ptr> packets, bool is_volatile = false) {
    to_session(engineio::send_atom::value, std::move(packets), is_volatile);
  }

  /// The session forgets us and writes `last_packets` (DISCONNECT or
  /// CONNECT_ERROR) in one step: a client that reconnects to the namespace at
  /// once must find the session ready for a new CONNECT.
  void leave_session(std::vector<engineio::packet_ptr> last_packets, bool close) {
    to_session(socket_gone_atom::value, nsp(), close, std::move(last_packets));
  }

  // -- connecting ------------------------------------------------------------

  void run_middleware(std::size_t index) {
    auto& mws = handlers_->middlewares;
    // Node's skipMiddlewares: a recovered socket passed them already.
    bool skip = cfg_.restored && cfg_.ns->options->connection_state_recovery.skip_middlewares;
    if (skip || index >= mws.size()) {
      accept();
      return;
    }
    // next() may be called later from anywhere: it becomes a message to us.
    auto me = caf::actor_cast<caf::actor>(this);
    auto called = std::make_shared<std::atomic<bool>>(false);
    guarded("middleware", [&] {
      mws[index](*this, [me, index, called](std::optional<connect_error> err) {
        if (!called->exchange(true))
          caf::anon_send(me, middleware_next_atom::value, index + 1, std::move(err));
      });
    });
  }

  void refuse(const connect_error& err) {
    json body = json::object();
    if (cfg_.v2_client) {
      // Node: socket._error(err.data || err.message), an ERROR packet for v2
      body = is_truthy(err.data) ? err.data : json(err.message);
    } else {
      body["message"] = err.message;
      if (!err.data.is_null())
        body["data"] = err.data;
    }
    leave_session(to_engine_packets(format(), packet{packet_type::connect_error, nsp(), {}, std::move(body)}),
                  false);
    quit();
  }

  void accept() {
    connected_ = true;
    ++cfg_.ns->socket_count;
    // CONNECT is queued at the session before the adapter knows us, so no
    // broadcast can reach the client ahead of it. It travels in the same
    // message that tells the session we are connected: as two messages, a
    // client could answer the CONNECT before the session knew, and the
    // session would drop that first event.
    std::optional<json> body; // v2 clients get no sid: they make their id from the engine's
    if (!cfg_.v2_client) {
      body = json::object();
      (*body)["sid"] = cfg_.id;
      if (recovery_)
        (*body)["pid"] = cfg_.pid;
    }
    to_session(socket_connected_atom::value, nsp(),
               to_engine_packets(format(), packet{packet_type::connect, nsp(), {}, std::move(body)}));
    auto me = caf::actor_cast<caf::actor>(this);
    if (cfg_.restored) {
      // Its rooms and the events it missed, in one step at the adapter.
      auto& rooms = cfg_.restored->rooms;
      rooms_.insert(rooms.begin(), rooms.end());
      send(cfg_.ns->adapter, add_recovered_atom::value, me, cfg_.session, *cfg_.restored,
           cfg_.offset);
      cfg_.restored->handed_events.clear(); // the adapter has them
    } else {
      send(cfg_.ns->adapter, add_atom::value, cfg_.id, me, cfg_.session);
    }
    rooms_.insert(cfg_.id);
    for (auto& h : handlers_->on_connection)
      guarded("connection handler", [&] { h(*this); });
    checkpoint();
  }

  /// In a cluster with recovery on: after the app's code ran, the other
  /// nodes get the socket's state if its rooms or data changed, so a client
  /// recovers elsewhere even if this node dies (data changed later, outside
  /// a handler of this socket, travels with the next change).
  void checkpoint() {
    if (!replicated_ || !connected_)
      return;
    if (!rooms_changed_ && data_ == checkpointed_data_)
      return;
    rooms_changed_ = false;
    checkpointed_data_ = data_;
    send(cfg_.ns->adapter, checkpoint_atom::value, state_to_keep());
  }

  persisted_session state_to_keep() const {
    persisted_session s;
    s.pid = cfg_.pid;
    s.sid = cfg_.id;
    s.rooms = {rooms_.begin(), rooms_.end()};
    s.data = data_;
    s.generation = generation_;
    s.born_ms = born_ms_;
    return s;
  }

  // -- packets from the client ---------------------------------------------

  void on_packet(packet& p) {
    if (!connected_) {
      util::debug_log("socket ", cfg_.id, ": packet dropped, not connected");
      return;
    }
    switch (p.type) {
      case packet_type::event:
      case packet_type::binary_event:
        on_event(p);
        break;
      case packet_type::ack:
      case packet_type::binary_ack:
        on_ack(p);
        break;
      case packet_type::disconnect:
        finish("client namespace disconnect");
        break;
      default:
        break;
    }
  }

  void on_event(packet& p) {
    sio::event ev;
    json data = p.data ? std::move(*p.data) : json::array();
    if (!data.empty()) {
      ev.name = data[0].is_string() ? data[0].get<std::string>() : data[0].dump();
      data.erase(data.begin());
    }
    ev.args = std::move(data);
    if (p.id) {
      auto session = cfg_.session;
      auto nsp_name = nsp();
      auto id = *p.id;
      // Called from anywhere; with recovery on, on the path of our other writes (to_session).
      auto adapter = recovery_ ? cfg_.ns->adapter : adapter_actor{};
      ev.ack = ack_handle{[session, adapter, nsp_name, id, format = format()](json args) {
        packet reply{packet_type::ack, nsp_name, id, std::move(args)};
        auto packets = to_engine_packets(format, reply);
        if (adapter)
          caf::anon_send(adapter, relay_atom::value, session,
                         caf::make_message(engineio::send_atom::value, std::move(packets), false));
        else
          caf::anon_send(session, engineio::send_atom::value, std::move(packets), false);
      }};
    }
    run_packet_middleware(0, std::move(ev));
  }

  void run_packet_middleware(std::size_t index, sio::event ev) {
    if (index >= packet_middlewares_.size()) {
      dispatch(ev);
      return;
    }
    // next() may be called from any thread, now or later: it becomes a message.
    auto shared_ev = std::make_shared<sio::event>(std::move(ev));
    auto me = caf::actor_cast<caf::actor>(this);
    auto called = std::make_shared<std::atomic<bool>>(false);
    guarded("packet middleware", [&] {
      packet_middlewares_[index](*this, *shared_ev,
                                 [me, index, shared_ev, called](std::optional<std::string> err) {
                                   if (!called->exchange(true))
                                     caf::anon_send(me, packet_middleware_next_atom::value,
                                                    index + 1, shared_ev, std::move(err));
                                 });
    });
  }

  void dispatch(sio::event& ev) {
    if (forward_to_) {
      send(forward_to_, event_message{ev.name, ev.args, ev.ack, ref()});
      return;
    }
    if (!any_handlers_.empty()) {
      auto any = any_handlers_; // a handler may add or remove handlers (Node copies too)
      for (auto& h : any)
        guarded("on_any handler", [&] { h.fn(*this, ev); });
    }
    auto i = event_handlers_.find(ev.name);
    if (i == event_handlers_.end())
      return;
    auto handlers = i->second;
    for (auto& h : handlers) {
      if (h.once)
        off(ev.name, h.id); // before it runs, as Node's once()
      guarded("handler", [&] { h.fn(*this, ev); });
    }
  }

  template <class F>
  handler_id add(handler_list<F>& list, F fn, bool first = false, bool once = false) {
    auto id = ++last_handler_id_;
    registered<F> entry{id, std::move(fn), once};
    if (first)
      list.insert(list.begin(), std::move(entry));
    else
      list.push_back(std::move(entry));
    return id;
  }

  void notify_outgoing(const std::string& event, const json& args) {
    if (outgoing_handlers_.empty())
      return;
    auto handlers = outgoing_handlers_;
    for (auto& h : handlers)
      guarded("on_any_outgoing handler", [&] { h.fn(*this, event, args); });
  }

  void on_ack(packet& p) {
    if (!p.id)
      return;
    auto i = acks_.find(*p.id);
    if (i == acks_.end())
      return;
    auto pending = std::move(i->second);
    acks_.erase(i);
    json args = p.data ? std::move(*p.data) : json::array();
    if (pending.is_promise)
      pending.promise.deliver(std::move(args));
    else if (pending.callback)
      guarded("ack callback", [&] { pending.callback(ack_result{{}, std::move(args)}); });
  }

  // -- leaving ---------------------------------------------------------------

  /// Runs the disconnect handlers and ends the actor.
  void finish(const std::string& reason) {
    if (!connected_) {
      quit();
      return;
    }
    for (auto& h : disconnecting_)
      guarded("disconnecting handler", [&] { h(*this, reason); });
    if (recovery_ && is_recoverable_reason(reason))
      send(cfg_.ns->adapter, persist_atom::value, state_to_keep());
    else if (replicated_)
      send(cfg_.ns->adapter, forget_atom::value, cfg_.pid, generation_);
    send(cfg_.ns->adapter, remove_atom::value, cfg_.id);
    --cfg_.ns->socket_count;
    connected_ = false;
    auto acks = std::move(acks_);
    acks_.clear();
    for (auto& entry : acks) {
      auto& pending = entry.second; // a plain reference: lambdas may not capture bindings in C++17
      if (pending.is_promise)
        pending.promise.deliver(caf::make_error(caf::sec::request_receiver_down));
      else if (pending.callback)
        guarded("ack callback",
                [&] { pending.callback(ack_result{disconnected_error, json::array()}); });
    }
    for (auto& h : disconnect_)
      guarded("disconnect handler", [&] { h(*this, reason); });
    rooms_.clear();
    quit();
  }

  socket_config cfg_;
  std::shared_ptr<const namespace_handlers> handlers_;
  bool connected_ = false;
  /// Connection state recovery is on (the socket has a pid).
  const bool recovery_;
  /// ... in a cluster: the other nodes keep a copy of its state (checkpoint()).
  const bool replicated_;
  std::uint64_t generation_ = 0; // restores so far
  std::int64_t born_ms_ = wall_clock_ms(); // see persisted_session::born_ms
  bool rooms_changed_ = true;
  json checkpointed_data_ = nullptr;
  json data_ = nullptr;
  std::set<std::string> rooms_;
  std::unordered_map<std::string, handler_list<event_handler>> event_handlers_;
  handler_list<event_handler> any_handlers_;
  handler_list<outgoing_handler> outgoing_handlers_;
  handler_id last_handler_id_ = 0;
  /// volatile_() was called: the next emit is volatile.
  bool volatile_next_ = false;
  std::vector<disconnect_handler> disconnecting_;
  std::vector<disconnect_handler> disconnect_;
  std::vector<std::function<void(sio::socket&, const std::string&)>> error_handlers_;
  std::vector<packet_middleware> packet_middlewares_;
  caf::actor forward_to_;
  std::unordered_map<std::uint64_t, pending_ack> acks_;
};

} // namespace

caf::actor spawn_socket(caf::event_based_actor* session, socket_config cfg) {
  return session->spawn<socket_actor>(std::move(cfg));
}

} // namespace sio::socketio
