#include "cluster/session_handover.hpp"

#include "util/msgpack.hpp"

namespace sio::cluster {

remote_session to_remote_session(const std::optional<socketio::persisted_session>& s) {
  remote_session r;
  if (!s)
    return r;
  r.found = true;
  r.pid = s->pid;
  r.sid = s->sid;
  r.rooms = s->rooms;
  r.data = util::to_bytes(s->data);
  r.generation = s->generation;
  r.born_ms = s->born_ms;
  for (auto& e : s->handed_events) {
    remote_event re{e.origin, e.seq, {}};
    for (auto& p : e.encoded)
      re.packets.push_back({p->is_binary(), p->wire()});
    r.handed_events.push_back(std::move(re));
  }
  return r;
}

std::optional<socketio::persisted_session> from_remote_session(const remote_session& r) {
  if (!r.found || r.sid.empty())
    return std::nullopt;
  socketio::persisted_session s;
  s.pid = r.pid;
  s.sid = r.sid;
  s.rooms = r.rooms;
  s.data = util::from_bytes(r.data);
  s.generation = r.generation;
  s.born_ms = r.born_ms;
  s.moved = true;
  for (auto& re : r.handed_events) {
    socketio::logged_event e{re.origin, re.seq, {}};
    for (auto& p : re.packets)
      e.encoded.push_back(
        std::make_shared<const engineio::packet>(engineio::packet::from_wire(p.wire, p.binary)));
    s.handed_events.push_back(std::move(e));
  }
  return s;
}

} // namespace sio::cluster
