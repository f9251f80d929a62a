#include "sio/socket_ref.hpp"

#include <caf/all.hpp>

#include "socketio/adapter_acks.hpp"
#include "socketio/atoms.hpp"
#include "socketio/run_in_actor.hpp"
#include "util/msgpack.hpp"

namespace sio {

using namespace sio::socketio;

void socket_ref::emit_args(const std::string& event, json args) const {
  // The socket may live on another node: send the arguments as bytes.
  caf::anon_send(actor_, emit_atom::value, event, util::to_bytes(args));
}

void socket_ref::emit_with_ack(const std::string& event, json args,
                               std::chrono::milliseconds timeout, ack_callback done,
                               caf::event_based_actor* in) const {
  const std::string disconnected = "socket has been disconnected";
  if (!actor_) {
    if (done)
      done(ack_result{disconnected, json::array()});
    return;
  }
  // The socket answers within `timeout` (its own ack timer, as its
  // emit_with_ack); the margin on the request only covers a lost node.
  auto target = actor_;
  auto bytes = util::to_bytes(args);
  run_in_actor(actor_.home_system(), in, [=](caf::event_based_actor* self) {
    self
      ->request(target, timeout + adapter_margin, emit_ack_atom::value, event, bytes,
                caf::timespan{timeout})
      .then(
        [=](std::string& error, std::string& answer) {
          if (done)
            done(ack_result{error, error.empty() ? util::from_bytes(answer) : json::array()});
        },
        [=](caf::error& err) {
          if (done)
            done(ack_result{err == caf::sec::request_timeout ? "operation has timed out"
                                                             : disconnected,
                            json::array()});
        });
  });
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
