// The membership index of one namespace on one node: which socket is in
// which room, and each named room's actor. The adapter that owns the index
// fans out every broadcast itself (docs/architecture.md, "Room actors"): a
// room actor stands beside that path. The index tells it the room's life
// (spawned at the first member, join, leave, delete at the last member).
// A room named after a socket id of this node gets no actor.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>

#include "socketio/adapter.hpp"

namespace sio::socketio {

class room_index {
public:
  struct entry {
    caf::actor socket;
    caf::actor session;
    std::unordered_set<std::string> rooms;
  };

  /// Makes the actor of a named room at its first member on this node.
  using room_spawner = std::function<caf::actor(const std::string& room)>;

  /// Without a spawner (the default) rooms get no actors.
  void spawn_rooms_with(room_spawner spawner) { spawn_room_ = std::move(spawner); }

  /// A connected socket; it is in its own id's room.
  void add(const std::string& sid, caf::actor socket, caf::actor session);
  /// The socket leaves every room.
  void remove(const std::string& sid);
  /// Unknown sockets are ignored; joining twice is one membership.
  void join(const std::string& sid, const std::string& room);
  void leave(const std::string& sid, const std::string& room);

  /// Calls f(socket id, entry) once per matching socket, deduplicated across rooms.
  template <class F>
  void for_each(const broadcast_target& target, F f) {
    auto except = excluded_ids(target);
    if (target.rooms.empty()) {
      for (auto& [sid, e] : sockets_)
        if (except.count(sid) == 0)
          f(sid, e);
      return;
    }
    std::unordered_set<std::string> seen;
    for (auto& room : target.rooms) {
      auto r = rooms_.find(room);
      if (r == rooms_.end())
        continue;
      for (auto& sid : r->second.members)
        if (except.count(sid) == 0 && seen.insert(sid).second)
          f(sid, sockets_[sid]);
    }
  }

  /// Calls f(room actor) for each target room that has one here (each once:
  /// rooms are a set). `except` does not matter: a message to the room is
  /// one, whoever it leaves out. Nothing for a broadcast to the namespace.
  template <class F>
  void for_each_room_actor(const broadcast_target& target, F f) const {
    for (auto& room : target.rooms)
      if (auto r = rooms_.find(room); r != rooms_.end() && r->second.actor)
        f(r->second.actor);
  }

  /// The actor of `room` on this node; none without members or for a socket id's room.
  caf::actor room_actor(const std::string& room) const;
  /// Every room and its number of sockets.
  std::map<std::string, std::size_t> room_sizes() const;
  std::size_t room_size(const std::string& room) const;
  /// The socket ids in `room`, sorted.
  std::vector<std::string> room_members(const std::string& room) const;

private:
  struct room_entry {
    std::unordered_set<std::string> members; // socket ids
    caf::actor actor;                          // none for a socket id's room
  };

  std::unordered_set<std::string> excluded_ids(const broadcast_target& target) const;

  std::unordered_map<std::string, entry> sockets_;
  std::unordered_map<std::string, room_entry> rooms_;
  room_spawner spawn_room_;
};

} // namespace sio::socketio
