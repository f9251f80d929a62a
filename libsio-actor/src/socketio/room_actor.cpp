#include "socketio/room_actor.hpp"

#include <string>
#include <unordered_map>

#include <caf/all.hpp>

#include "socketio/atoms.hpp"

namespace sio::socketio {

namespace {

struct room_state {
  std::unordered_map<std::string, caf::actor> members; // socket id -> session actor
  std::string room;
  static inline const char* name = "sio.room";
};

caf::behavior room(caf::stateful_actor<room_state>* self, const std::string& name) {
  self->state.room = name;
  self->set_default_handler(caf::drop);
  return {
    [=](add_atom, const std::string& sid, const caf::actor& session) {
      self->state.members[sid] = session;
    },
    [=](remove_atom, const std::string& sid) { self->state.members.erase(sid); },
    [=](room_broadcast_atom, const std::set<std::string>& except, const caf::message& msg) {
      for (auto& [sid, session] : self->state.members)
        if (except.count(sid) == 0)
          session->enqueue(nullptr, caf::make_message_id(), msg, self->context());
    },
  };
}

} // namespace

caf::actor spawn_room(caf::event_based_actor* adapter, const std::string& name) {
  return adapter->spawn<caf::linked>(room, name);
}

} // namespace sio::socketio
