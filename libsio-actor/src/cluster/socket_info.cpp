#include "cluster/socket_info.hpp"

namespace sio::cluster {

socket_info to_socket_info(const remote_socket& s) {
  socket_info info;
  info.id = s.id;
  info.headers = {s.handshake.headers.begin(), s.handshake.headers.end()};
  info.query = {s.handshake.query.begin(), s.handshake.query.end()};
  info.address = s.handshake.address;
  info.url = s.handshake.url;
  info.issued = s.handshake.issued;
  info.secure = s.handshake.secure;
  info.auth = to_bytes(s.handshake.auth);
  info.rooms.assign(s.rooms.begin(), s.rooms.end());
  info.data = to_bytes(s.data);
  info.socket = s.ref.actor();
  return info;
}

remote_socket from_socket_info(socket_info info, const std::string& nsp) {
  remote_socket s;
  s.id = info.id;
  s.handshake.headers = {info.headers.begin(), info.headers.end()};
  s.handshake.query = {info.query.begin(), info.query.end()};
  s.handshake.address = std::move(info.address);
  s.handshake.url = std::move(info.url);
  s.handshake.issued = info.issued;
  s.handshake.secure = info.secure;
  s.handshake.auth = from_bytes(info.auth);
  s.rooms = {info.rooms.begin(), info.rooms.end()};
  s.data = from_bytes(info.data);
  s.ref = socket_ref{std::move(info.socket), std::move(info.id), nsp};
  return s;
}

} // namespace sio::cluster
