// Selecting recipients and sending to many sockets at once, as Node's
// BroadcastOperator: io.to("room").except("other").emit(...).
// A value type; every modifier returns a modified copy.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "sio/ack.hpp"
#include "sio/json.hpp"
#include "sio/socket_ref.hpp"

namespace sio {

namespace socketio {
struct namespace_state;
struct handle_access;
}

/// Made by namespace_handle::all(), socket::to() and the like.
class broadcast_operator {
public:
  broadcast_operator to(const std::string& room) const;
  broadcast_operator to(const std::vector<std::string>& rooms) const;
  broadcast_operator in(const std::string& room) const { return to(room); }
  broadcast_operator except(const std::string& room) const;
  broadcast_operator except(const std::vector<std::string>& rooms) const;
  /// Only this node's sockets (matters in a cluster).
  broadcast_operator local() const;
  /// Dropped for clients that cannot take the packet right now.
  broadcast_operator volatile_() const;
  broadcast_operator compress(bool on) const;
  broadcast_operator timeout(std::chrono::milliseconds t) const;

  template <class... Ts>
  void emit(const std::string& event, Ts&&... args) const {
    emit_args(event, make_args(std::forward<Ts>(args)...));
  }
  void emit_args(const std::string& event, json args) const;
  /// Every recipient acknowledges; `done` gets all answers, or the timeout
  /// error (set with timeout(), default 5 s) with the answers that arrived.
  void emit_with_ack(const std::string& event, json args, broadcast_ack_callback done) const;

  /// Matching sockets (across the cluster unless local()).
  void fetch_sockets(std::function<void(std::vector<remote_socket>)> done) const;
  void sockets_join(const std::string& room) const;
  void sockets_join(const std::vector<std::string>& rooms) const;
  void sockets_leave(const std::string& room) const;
  void disconnect_sockets(bool close = false) const;

  const std::set<std::string>& rooms() const noexcept { return rooms_; }
  const std::set<std::string>& excluded() const noexcept { return except_; }
  bool is_volatile() const noexcept { return volatile_flag_; }
  bool is_local() const noexcept { return local_; }
  std::chrono::milliseconds ack_timeout() const noexcept { return timeout_; }

private:
  friend struct socketio::handle_access;
  broadcast_operator(std::shared_ptr<socketio::namespace_state> ns, caf::event_based_actor* self,
                     std::set<std::string> except = {});

  std::shared_ptr<socketio::namespace_state> ns_;
  caf::event_based_actor* self_ = nullptr;
  std::set<std::string> rooms_;
  std::set<std::string> except_;
  bool volatile_flag_ = false;
  bool local_ = false;
  bool compress_ = true;
  std::chrono::milliseconds timeout_{5000};
};

} // namespace sio
