#include "sio/socket_ref.hpp"

#include <caf/send.hpp>

#include "socketio/atoms.hpp"
#include "util/msgpack.hpp"

namespace sio {

using namespace sio::socketio;

void socket_ref::emit_args(const std::string& event, json args) const {
  // The socket may live on another node: send the arguments as bytes.
  caf::anon_send(actor_, emit_atom::value, event, util::to_bytes(args));
}

void socket_ref::join(const std::string& room) const {
  caf::anon_send(actor_, join_atom::value, std::vector<std::string>{room});
}

void socket_ref::leave(const std::string& room) const {
  caf::anon_send(actor_, leave_atom::value, room);
}

void socket_ref::disconnect(bool close) const {
  caf::anon_send(actor_, disconnect_atom::value, close);
}

} // namespace sio
