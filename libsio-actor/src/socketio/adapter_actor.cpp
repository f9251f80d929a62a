#include "socketio/adapter_actor.hpp"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/all.hpp>

#include "socketio/atoms.hpp"

namespace sio::socketio {

namespace {

struct socket_entry {
  caf::actor socket;
  caf::actor session;
  std::unordered_set<std::string> rooms;
};


struct adapter_state {
  std::unordered_map<std::string, socket_entry> sockets;
  std::unordered_map<std::string, std::unordered_set<std::string>> rooms; // room -> socket ids
  std::string nsp;
  static inline const char* name = "sio.adapter";
};

using adapter_actor = caf::stateful_actor<adapter_state>;

void join(adapter_actor* self, const std::string& sid, const std::string& room) {
  auto& st = self->state;
  auto s = st.sockets.find(sid);
  if (s == st.sockets.end() || !s->second.rooms.insert(room).second)
    return;
  st.rooms[room].insert(sid);
}

void leave(adapter_actor* self, const std::string& sid, const std::string& room) {
  auto& st = self->state;
  auto s = st.sockets.find(sid);
  if (s == st.sockets.end() || s->second.rooms.erase(room) == 0)
    return;
  auto r = st.rooms.find(room);
  if (r == st.rooms.end())
    return;
  r->second.erase(sid);
  if (r->second.empty())
    st.rooms.erase(r);
}

std::unordered_set<std::string> excluded_ids(const adapter_state& st,
                                             const broadcast_target& target) {
  std::unordered_set<std::string> ids;
  for (auto& room : target.except)
    if (auto r = st.rooms.find(room); r != st.rooms.end())
      ids.insert(r->second.begin(), r->second.end());
  return ids;
}

/// Calls f(socket id, entry) once per matching socket, deduplicated across rooms.
template <class F>
void for_each_target(adapter_state& st, const broadcast_target& target, F f) {
  auto except = excluded_ids(st, target);
  if (target.rooms.empty()) {
    for (auto& [sid, entry] : st.sockets)
      if (except.count(sid) == 0)
        f(sid, entry);
    return;
  }
  std::unordered_set<std::string> seen;
  for (auto& room : target.rooms) {
    auto r = st.rooms.find(room);
    if (r == st.rooms.end())
      continue;
    for (auto& sid : r->second)
      if (except.count(sid) == 0 && seen.insert(sid).second)
        f(sid, st.sockets[sid]);
  }
}

// Spawned with an argument: CAF 0.17 dereferences a null argument tuple when
// a function-based actor has none (UBSan reports it).
caf::behavior adapter(adapter_actor* self, const std::string& nsp) {
  self->state.nsp = nsp;
  self->set_default_handler(caf::drop);
  return {
    [=](add_atom, const std::string& sid, const caf::actor& socket, const caf::actor& session) {
      self->state.sockets[sid] = socket_entry{socket, session, {}};
      join(self, sid, sid);
    },
    [=](join_atom, const std::string& sid, const std::vector<std::string>& rooms) {
      for (auto& room : rooms)
        join(self, sid, room);
    },
    [=](leave_atom, const std::string& sid, const std::string& room) { leave(self, sid, room); },
    [=](remove_atom, const std::string& sid) {
      auto s = self->state.sockets.find(sid);
      if (s == self->state.sockets.end())
        return;
      auto rooms = s->second.rooms;
      for (auto& room : rooms)
        leave(self, sid, room);
      self->state.sockets.erase(sid);
    },
    [=](broadcast_atom, const broadcast_target& target, const caf::message& msg) {
      // The adapter fans out every broadcast itself: one path from any sender
      // to each session keeps broadcasts in the order they were sent.
      for_each_target(self->state, target, [&](const std::string&, socket_entry& e) {
        e.session->enqueue(nullptr, caf::make_message_id(), msg, self->context());
      });
    },
    [=](select_atom, const broadcast_target& target) {
      std::vector<caf::actor> result;
      for_each_target(self->state, target,
                      [&](const std::string&, socket_entry& e) { result.push_back(e.socket); });
      return result;
    },
    [=](sockets_join_atom, const broadcast_target& target, const std::vector<std::string>& rooms) {
      for_each_target(self->state, target, [&](const std::string&, socket_entry& e) {
        self->send(e.socket, join_atom::value, rooms);
      });
    },
    [=](sockets_leave_atom, const broadcast_target& target, const std::vector<std::string>& rooms) {
      for_each_target(self->state, target, [&](const std::string&, socket_entry& e) {
        for (auto& room : rooms)
          self->send(e.socket, leave_atom::value, room);
      });
    },
    [=](disconnect_sockets_atom, const broadcast_target& target, bool close) {
      for_each_target(self->state, target, [&](const std::string&, socket_entry& e) {
        self->send(e.socket, disconnect_atom::value, close);
      });
    },
  };
}

} // namespace

caf::actor spawn_adapter(caf::actor_system& sys, const std::string& nsp) {
  return sys.spawn(adapter, nsp);
}

} // namespace sio::socketio
