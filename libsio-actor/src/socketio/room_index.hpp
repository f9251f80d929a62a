// The membership index of one namespace on one node: which socket is in
// which room. Rooms are entries here, not actors: the adapter that owns the
// index fans out every broadcast itself (docs/architecture.md, "Why rooms
// are not actors").
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

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
      for (auto& sid : r->second)
        if (except.count(sid) == 0 && seen.insert(sid).second)
          f(sid, sockets_[sid]);
    }
  }

  /// Every room and its number of sockets.
  std::map<std::string, std::size_t> room_sizes() const;

private:
  std::unordered_set<std::string> excluded_ids(const broadcast_target& target) const;

  std::unordered_map<std::string, entry> sockets_;
  std::unordered_map<std::string, std::unordered_set<std::string>> rooms_; // room -> socket ids
};

} // namespace sio::socketio
