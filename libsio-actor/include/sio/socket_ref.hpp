// A handle to a connected socket that is safe to keep and use from any
// thread or actor: every call becomes a message to the socket's actor.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "sio/ack.hpp"
#include "sio/handshake.hpp"
#include "sio/json.hpp"

namespace sio {

class socket_ref {
public:
  socket_ref() = default;
  socket_ref(caf::actor socket_actor, std::string id, std::string nsp)
    : actor_(std::move(socket_actor)), id_(std::move(id)), nsp_(std::move(nsp)) {}

  const std::string& id() const noexcept { return id_; }
  const std::string& nsp() const noexcept { return nsp_; }
  /// The socket's actor: it also accepts the messages in sio/messages.hpp.
  const caf::actor& actor() const noexcept { return actor_; }
  explicit operator bool() const noexcept { return static_cast<bool>(actor_); }

  template <class... Ts>
  void emit(const std::string& event, Ts&&... args) const {
    emit_args(event, make_args(std::forward<Ts>(args)...));
  }
  void emit_args(const std::string& event, json args) const;
  /// Emits and waits for the client's ack, wherever the socket lives (this
  /// node or another of the cluster). `done` gets the client's answer, or
  /// "operation has timed out" after `timeout`, or "socket has been
  /// disconnected" (also when the socket is gone already). It runs in `in` (an
  /// actor of the caller) or, when null, in a short-lived helper actor.
  void emit_with_ack(const std::string& event, json args, std::chrono::milliseconds timeout,
                     ack_callback done, caf::event_based_actor* in = nullptr) const;
  void join(const std::string& room) const;
  void leave(const std::string& room) const;
  /// Disconnects from this namespace; with close = true the whole connection.
  void disconnect(bool close = false) const;

private:
  caf::actor actor_;
  std::string id_;
  std::string nsp_;
};

/// A socket as fetch_sockets() returns it: a snapshot of its state plus a
/// live handle (emit, join, leave, disconnect act on the real socket).
struct remote_socket {
  std::string id;
  sio::handshake handshake;
  std::set<std::string> rooms;
  json data;
  socket_ref ref;
};

} // namespace sio
