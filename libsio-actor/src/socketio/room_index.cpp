#include "socketio/room_index.hpp"

#include <algorithm>

#include <caf/send.hpp>

#include "socketio/room_actor.hpp"

namespace sio::socketio {

void room_index::add(const std::string& sid, caf::actor socket, caf::actor session) {
  sockets_[sid] = entry{std::move(socket), std::move(session), {}};
  join(sid, sid);
}

void room_index::remove(const std::string& sid) {
  auto s = sockets_.find(sid);
  if (s == sockets_.end())
    return;
  auto rooms = s->second.rooms;
  for (auto& room : rooms)
    leave(sid, room);
  sockets_.erase(sid);
}

void room_index::join(const std::string& sid, const std::string& room) {
  auto s = sockets_.find(sid);
  if (s == sockets_.end() || !s->second.rooms.insert(room).second)
    return;
  auto [r, created] = rooms_.try_emplace(room);
  // A room named after a socket of this node is that socket's private room
  // (add() makes it first): no actor, so a socket in no named room costs
  // what it did before room actors.
  if (created && spawn_room_ && sockets_.count(room) == 0)
    r->second.actor = spawn_room_(room);
  r->second.members.insert(sid);
  if (r->second.actor)
    caf::anon_send(r->second.actor, room_join_atom::value, sid, s->second.session);
}

void room_index::leave(const std::string& sid, const std::string& room) {
  auto s = sockets_.find(sid);
  if (s == sockets_.end() || s->second.rooms.erase(room) == 0)
    return;
  auto r = rooms_.find(room);
  if (r == rooms_.end())
    return;
  r->second.members.erase(sid);
  if (r->second.actor)
    caf::anon_send(r->second.actor, room_leave_atom::value, sid);
  if (!r->second.members.empty())
    return;
  // The last member here: the actor ends; a later join makes a new one.
  if (r->second.actor)
    caf::anon_send(r->second.actor, room_delete_atom::value);
  rooms_.erase(r);
}

caf::actor room_index::room_actor(const std::string& room) const {
  auto r = rooms_.find(room);
  return r == rooms_.end() ? caf::actor{} : r->second.actor;
}

std::map<std::string, std::size_t> room_index::room_sizes() const {
  std::map<std::string, std::size_t> out;
  for (auto& [room, r] : rooms_)
    out.emplace(room, r.members.size());
  return out;
}

std::size_t room_index::room_size(const std::string& room) const {
  auto r = rooms_.find(room);
  return r == rooms_.end() ? 0 : r->second.members.size();
}

std::vector<std::string> room_index::room_members(const std::string& room) const {
  std::vector<std::string> out;
  if (auto r = rooms_.find(room); r != rooms_.end())
    out.assign(r->second.members.begin(), r->second.members.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::unordered_set<std::string> room_index::excluded_ids(const broadcast_target& target) const {
  std::unordered_set<std::string> ids;
  for (auto& room : target.except)
    if (auto r = rooms_.find(room); r != rooms_.end())
      ids.insert(r->second.members.begin(), r->second.members.end());
  return ids;
}

} // namespace sio::socketio
