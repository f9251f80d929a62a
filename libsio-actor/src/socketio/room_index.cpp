#include "socketio/room_index.hpp"

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
  rooms_[room].insert(sid);
}

void room_index::leave(const std::string& sid, const std::string& room) {
  auto s = sockets_.find(sid);
  if (s == sockets_.end() || s->second.rooms.erase(room) == 0)
    return;
  auto r = rooms_.find(room);
  if (r == rooms_.end())
    return;
  r->second.erase(sid);
  if (r->second.empty())
    rooms_.erase(r);
}

std::map<std::string, std::size_t> room_index::room_sizes() const {
  std::map<std::string, std::size_t> out;
  for (auto& [room, members] : rooms_)
    out.emplace(room, members.size());
  return out;
}

std::unordered_set<std::string> room_index::excluded_ids(const broadcast_target& target) const {
  std::unordered_set<std::string> ids;
  for (auto& room : target.except)
    if (auto r = rooms_.find(room); r != rooms_.end())
      ids.insert(r->second.begin(), r->second.end());
  return ids;
}

} // namespace sio::socketio
