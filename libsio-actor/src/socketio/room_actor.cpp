#include "socketio/room_actor.hpp"
#include "socketio/handle_access.hpp"

#include <exception>
#include <map>
#include <vector>

#include <caf/all.hpp>

#include "engineio/atoms.hpp"
#include "sio/room.hpp"
#include "socketio/adapter.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/wire.hpp"
#include "util/debug_log.hpp"
#include "util/unexpected_message.hpp"

namespace sio::socketio {

namespace {

using packets = std::vector<engineio::packet_ptr>;

/// The application's view of the room, owned by the room actor's state.
class room_impl final : public sio::room {
public:
  room_impl(caf::event_based_actor* self, std::weak_ptr<namespace_state> ns, std::string nsp,
            std::string name)
    : self_(self), ns_(std::move(ns)), nsp_(std::move(nsp)), name_(std::move(name)) {}

  const std::string& name() const noexcept override { return name_; }
  const std::string& nsp() const noexcept override { return nsp_; }
  std::size_t size() const noexcept override { return members_.size(); }

  std::vector<std::string> members() const override {
    std::vector<std::string> out;
    out.reserve(members_.size());
    for (auto& [sid, session] : members_)
      out.push_back(sid);
    return out;
  }

  bool has_member(const std::string& socket_id) const override {
    return members_.count(socket_id) != 0;
  }

  room& on_join(room_member_handler h) override { return add(on_join_, std::move(h)); }
  room& on_leave(room_member_handler h) override { return add(on_leave_, std::move(h)); }
  room& on_message(room_message_handler h) override { return add(on_message_, std::move(h)); }
  room& on_app_message(room_app_handler h) override { return add(on_app_, std::move(h)); }
  room& on_delete(room_delete_handler h) override { return add(on_delete_, std::move(h)); }

  void emit_args(const std::string& event, json args) const override {
    if (auto ns = ns_.lock())
      socketio::handle_access::make_operator(ns, self_).to(name_).emit_args(event, std::move(args));
  }

  broadcast_operator broadcast() const override {
    auto ns = ns_.lock();
    if (!ns)
      throw std::logic_error("sio::room::broadcast: the namespace is gone");
    return socketio::handle_access::make_operator(ns, self_).to(name_);
  }

  void emit_to_args(const std::string& socket_id, const std::string& event,
                    json args) const override {
    auto ns = ns_.lock();
    bool numbered = ns && ns->options->connection_state_recovery.enabled;
    if (auto m = members_.find(socket_id); m != members_.end() && !numbered && ns) {
      caf::anon_send(m->second, engineio::send_atom::value,
                     make_event(ns->options->parser, nsp_, event, args), false);
      return;
    }
    // With recovery on, through the adapter even for a member here: the event
    // gets its offset there and is kept for replay, like a socket's own emit.
    if (ns)
      socketio::handle_access::make_operator(ns, self_).to(socket_id).emit_args(event, std::move(args));
  }

  bool replay(const std::string& socket_id, const room_message& message) const override {
    auto m = members_.find(socket_id);
    if (m == members_.end() || message.encoded().empty())
      return false;
    // The stored message itself: its packets are shared, nothing is copied.
    m->second->enqueue(nullptr, caf::make_message_id(), message.encoded(), self_->context());
    return true;
  }

  room_ref ref() const override { return socketio::handle_access::make_room_ref(ns_, name_); }
  caf::event_based_actor* self() const noexcept override { return self_; }

  // -- driven by the room actor ----------------------------------------------

  void setup(const std::vector<room_setup>& setups) {
    for (auto& s : setups)
      guarded("on_room setup", [&] { s(*this); });
  }

  void joined(const std::string& sid, caf::actor session) {
    members_[sid] = std::move(session);
    for (auto& h : on_join_)
      guarded("on_join", [&] { h(*this, sid); });
  }

  void left(const std::string& sid) {
    if (members_.erase(sid) == 0)
      return;
    for (auto& h : on_leave_)
      guarded("on_leave", [&] { h(*this, sid); });
  }

  void message(caf::message encoded) {
    if (on_message_.empty())
      return; // nobody asked: no room_message made
    room_message m{std::move(encoded)};
    for (auto& h : on_message_)
      guarded("on_message", [&] { h(*this, m); });
  }

  void app_message(const caf::message& msg) {
    for (auto& h : on_app_)
      guarded("on_app_message", [&] { h(*this, msg); });
  }

  void deleted() {
    for (auto& h : on_delete_)
      guarded("on_delete", [&] { h(*this); });
  }

private:
  template <class H>
  room& add(std::vector<H>& hs, H h) {
    if (h)
      hs.push_back(std::move(h));
    return *this;
  }

  /// An exception escaping a handler would kill the room actor (CAF 0.17):
  /// the room would then miss every later event on this node.
  template <class F>
  void guarded(const char* what, F f) {
    try {
      f();
    } catch (const std::exception& e) {
      util::log_line("room '", name_, "' of ", nsp_, ": ", what, " threw: ", e.what());
    } catch (...) {
      util::log_line("room '", name_, "' of ", nsp_, ": ", what, " threw");
    }
  }

  caf::event_based_actor* self_;
  std::weak_ptr<namespace_state> ns_;
  std::string nsp_;
  std::string name_;
  std::map<std::string, caf::actor> members_; // socket id -> session actor
  std::vector<room_member_handler> on_join_;
  std::vector<room_member_handler> on_leave_;
  std::vector<room_message_handler> on_message_;
  std::vector<room_app_handler> on_app_;
  std::vector<room_delete_handler> on_delete_;
};

struct room_actor_state {
  std::unique_ptr<room_impl> room;
  static inline const char* name = "sio.room";
};

using room_actor = caf::stateful_actor<room_actor_state>;

caf::behavior room_behavior(room_actor* self, std::weak_ptr<namespace_state> ns, std::string nsp,
                            std::string name, caf::actor adapter) {
  self->set_default_handler(util::log_unexpected);
  // The adapter owns the room's life; when it ends (its namespace went away)
  // no delete will come.
  self->monitor(adapter);
  self->set_down_handler([=](caf::down_msg&) { self->quit(); });
  std::vector<room_setup> setups;
  if (auto n = ns.lock()) {
    auto handlers = n->handlers();
    for (auto& b : handlers->rooms)
      if (b.matches(name))
        setups.push_back(b.setup);
  }
  self->state.room = std::make_unique<room_impl>(self, std::move(ns), std::move(nsp),
                                                 std::move(name));
  self->state.room->setup(setups);
  return {
    [=](room_join_atom, const std::string& sid, const caf::actor& session) {
      self->state.room->joined(sid, session);
    },
    [=](room_leave_atom, const std::string& sid) { self->state.room->left(sid); },
    [=](room_delete_atom) {
      self->state.room->deleted();
      self->quit();
    },
    [=](engineio::send_atom, const packets&, bool) {
      // The broadcast's own message (a reference, not a copy of its packets).
      self->state.room->message(self->current_mailbox_element()->copy_content_to_message());
    },
    [=](room_app_atom, const caf::message& msg) { self->state.room->app_message(msg); },
  };
}

} // namespace

caf::actor spawn_room_actor(caf::actor_system& sys, std::weak_ptr<namespace_state> ns,
                            std::string nsp, std::string room, caf::actor adapter) {
  return sys.spawn(room_behavior, std::move(ns), std::move(nsp), std::move(room),
                   std::move(adapter));
}

} // namespace sio::socketio
