#include "sio/broadcast_operator.hpp"

#include <caf/all.hpp>

#include "engineio/atoms.hpp"
#include "socketio/adapter.hpp"
#include "socketio/adapter_acks.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/run_in_actor.hpp"
#include "socketio/wire.hpp"

namespace sio {

using namespace sio::socketio;

namespace {

broadcast_target target_of(const broadcast_operator& op) {
  broadcast_target t;
  t.rooms = op.rooms();
  t.except = op.excluded();
  t.is_volatile = op.is_volatile();
  t.local = op.is_local();
  return t;
}

} // namespace

broadcast_operator::broadcast_operator(std::shared_ptr<socketio::namespace_state> ns,
                                       caf::event_based_actor* self, std::set<std::string> except)
  : ns_(std::move(ns)), self_(self), except_(std::move(except)),
    timeout_(ns_->options->request_timeout) {
}

broadcast_operator broadcast_operator::to(const std::string& room) const {
  auto copy = *this;
  copy.rooms_.insert(room);
  return copy;
}

broadcast_operator broadcast_operator::to(const std::vector<std::string>& rooms) const {
  auto copy = *this;
  copy.rooms_.insert(rooms.begin(), rooms.end());
  return copy;
}

broadcast_operator broadcast_operator::except(const std::string& room) const {
  auto copy = *this;
  copy.except_.insert(room);
  return copy;
}

broadcast_operator broadcast_operator::except(const std::vector<std::string>& rooms) const {
  auto copy = *this;
  copy.except_.insert(rooms.begin(), rooms.end());
  return copy;
}

broadcast_operator broadcast_operator::local() const {
  auto copy = *this;
  copy.local_ = true;
  return copy;
}

broadcast_operator broadcast_operator::volatile_() const {
  auto copy = *this;
  copy.volatile_flag_ = true;
  return copy;
}

broadcast_operator broadcast_operator::compress(bool on) const {
  auto copy = *this;
  copy.compress_ = on; // WebSocket compression is off in sio-actor: accepted, no effect
  return copy;
}

broadcast_operator broadcast_operator::timeout(std::chrono::milliseconds t) const {
  auto copy = *this;
  copy.timeout_ = t;
  return copy;
}

void broadcast_operator::emit_args(const std::string& event, json args) const {
  if (ns_->options->connection_state_recovery.enabled && !volatile_flag_) {
    // The adapter encodes it, with its offset, and keeps it for replay.
    caf::anon_send(ns_->adapter, emit_event_atom::value, target_of(*this),
                   event_emit{event, std::move(args), {}, 0});
    return;
  }
  // Encoded once here; every recipient's session gets this same message.
  auto msg = caf::make_message(engineio::send_atom::value, make_event(ns_->options->parser, ns_->name, event, args),
                               volatile_flag_);
  caf::anon_send(ns_->adapter, broadcast_atom::value, target_of(*this), std::move(msg));
}

void broadcast_operator::emit_with_ack(const std::string& event, json args,
                                       broadcast_ack_callback done) const {
  // The adapter encodes it: ack ids are per node.
  request_acks(ns_->sys, self_, ns_->adapter, timeout_, std::move(done), broadcast_ack_atom::value,
               target_of(*this), ack_emit{event, std::move(args), timeout_});
}

void broadcast_operator::fetch_sockets(
  std::function<void(std::vector<remote_socket>)> done) const {
  auto adapter = ns_->adapter;
  auto target = target_of(*this);
  auto t = timeout_;
  run_in_actor(ns_->sys, self_, [=](caf::event_based_actor* self) {
    self->request(adapter, t + adapter_margin, fetch_sockets_atom::value, target, caf::timespan{t})
      .then([=](std::vector<remote_socket>& sockets) { done(std::move(sockets)); },
            [=](caf::error&) { done({}); });
  });
}

void broadcast_operator::sockets_join(const std::string& room) const {
  sockets_join(std::vector<std::string>{room});
}

void broadcast_operator::sockets_join(const std::vector<std::string>& rooms) const {
  caf::anon_send(ns_->adapter, sockets_join_atom::value, target_of(*this), rooms);
}

void broadcast_operator::sockets_leave(const std::string& room) const {
  caf::anon_send(ns_->adapter, sockets_leave_atom::value, target_of(*this),
                 std::vector<std::string>{room});
}

void broadcast_operator::disconnect_sockets(bool close) const {
  caf::anon_send(ns_->adapter, disconnect_sockets_atom::value, target_of(*this), close);
}

} // namespace sio
