// Converting sockets to and from the form they cross the cluster in.
#pragma once

#include <string>

#include "cluster/messages.hpp"
#include "sio/socket_ref.hpp"
#include "util/msgpack.hpp"

namespace sio::cluster {

using util::from_bytes;
using util::to_bytes;

socket_info to_socket_info(const remote_socket& s);
remote_socket from_socket_info(socket_info info, const std::string& nsp);

} // namespace sio::cluster
