// The local adapter of one namespace: the room index, and this node's part
// of every operation of the adapter protocol (socketio/adapter.hpp). It fans
// out every broadcast itself (one encoded message shared by all recipients):
// a single path from a sender to each session is what keeps broadcasts in
// order (see docs/architecture.md). Named rooms' actors (room_actor.hpp)
// get the same message beside that path. The cluster adapter runs the same code
// inside its own actor (cluster/cluster_adapter.cpp), so a cluster adds no
// hop in front of the local fan-out.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <caf/actor_system.hpp>

#include "socketio/adapter.hpp"
#include "socketio/room_index.hpp"

namespace sio::socketio {

struct namespace_state;

/// What an adapter of either kind keeps.
struct local_adapter_state {
  std::string nsp;
  /// Ack ids and server-side handlers; weak: the namespace holds the adapter.
  std::weak_ptr<namespace_state> ns;
  room_index index;
  /// How events made here are encoded (the server's parser).
  wire_format format = wire_format::json;
  /// Connection state recovery, when the server has it on.
  std::optional<recovery_log> recovery;
  static inline const char* name = "sio.adapter";
};

/// This node's part of each operation, run in `self` (an adapter of either kind).
namespace local_part {

using self_ptr = adapter_actor::pointer;
using acks_done = std::function<void(std::vector<json> answers, bool all_answered)>;

/// Called once when the adapter starts (st.ns and st.nsp set): named rooms
/// get their actors (socketio/room_actor.hpp), spawned by the index.
void start(self_ptr self, local_adapter_state& st);

/// Enqueues `msg` into each matching session: the same message for all;
/// then into the actor of each named room in the target.
void fan_out(self_ptr self, local_adapter_state& st, const broadcast_target& target,
             const caf::message& msg);
/// What emit_event() made: the packets, and the origin and number the event
/// got (empty origin: none, it is not replayable).
struct numbered_event {
  std::string origin;
  std::uint64_t seq = 0;
  std::vector<engineio::packet_ptr> packets;
};

/// Encodes `e` and fans it out; with recovery on and a target that is not
/// volatile, with this node's offset appended, kept for replay.
numbered_event emit_event(self_ptr self, local_adapter_state& st, const broadcast_target& target,
                          event_emit e);
/// Recovery: keeps a disconnected socket's state; finds it again (once).
void persist(local_adapter_state& st, persisted_session s);
/// With `hand_over` (for another node): also the events only this node
/// delivered that the socket missed (persisted_session::handed_events).
std::optional<persisted_session> restore(local_adapter_state& st, const std::string& pid,
                                         const std::string& offset, bool hand_over = false);
/// A restored socket: the events it missed since `offset` go to its session
/// (with those another node handed over, in origin order), then it is in the
/// index with its rooms (one step: nothing missed, nothing twice).
void add_recovered(self_ptr self, local_adapter_state& st, const caf::actor& socket,
                   const caf::actor& session, persisted_session& restored,
                   const std::string& offset);

/// Encodes `e` with a fresh ack id and gathers every matching socket's answer;
/// `done` runs in `self` once all answered or failed, within e.timeout.
void gather_acks(self_ptr self, local_adapter_state& st, const broadcast_target& target,
                 const ack_emit& e, acks_done done);
/// Every matching socket's snapshot; one that does not answer within `timeout` is left out.
void gather_sockets(self_ptr self, local_adapter_state& st, const broadcast_target& target,
                    caf::timespan timeout, std::function<void(std::vector<remote_socket>)> done);
void sockets_join(local_adapter_state& st, const broadcast_target& target,
                  const std::vector<std::string>& rooms);
void sockets_leave(local_adapter_state& st, const broadcast_target& target,
                   const std::vector<std::string>& rooms);
void disconnect_sockets(local_adapter_state& st, const broadcast_target& target,
                        bool close);
/// (room_app_atom, msg) to the actor of `room` on this node, if it has one.
void send_to_room(const local_adapter_state& st, const std::string& room, const caf::message& msg);
/// Runs this node's server-side handler for `ev` (sent by another node);
/// `ack` (may be empty, may stay uncalled) gets the handler's first ack argument.
/// Nothing happens without a handler.
void run_server_side(const local_adapter_state& st, const server_side_event& ev,
                     std::function<void(json)> ack);

/// The handlers both kinds of adapter answer alike, from this node's room
/// index alone: membership changes, relays, and what a room actor asks.
template <class Self>
auto index_handlers(Self self) {
  return std::make_tuple(
    [=](add_atom, const std::string& sid, const caf::actor& socket, const caf::actor& session) {
      self->state.index.add(sid, socket, session);
    },
    [=](remove_atom, const std::string& sid) { self->state.index.remove(sid); },
    [=](join_atom, const std::string& sid, const std::vector<std::string>& rooms) {
      for (auto& room : rooms)
        self->state.index.join(sid, room);
    },
    [=](leave_atom, const std::string& sid, const std::string& room) {
      self->state.index.leave(sid, room);
    },
    [=](relay_atom, const caf::actor& session, const caf::message& msg) {
      session->enqueue(nullptr, caf::make_message_id(), msg, self->context());
    },
    [=](room_size_atom, const std::string& room) { return self->state.index.room_size(room); },
    [=](room_members_atom, const std::string& room) {
      return self->state.index.room_members(room);
    },
    [=](room_app_atom, const std::string& room, const caf::message& msg) {
      send_to_room(self->state, room, msg);
    });
}

/// An adapter's behavior: index_handlers(self) and its own handlers.
template <class Self, class... Handlers>
adapter_actor::behavior_type adapter_behavior(Self self, Handlers... own) {
  return std::apply(
    [&](auto... shared) { return adapter_actor::behavior_type{std::move(shared)..., std::move(own)...}; },
    index_handlers(self));
}

} // namespace local_part

/// The adapter of namespace `ns` on a single node.
adapter_actor spawn_local_adapter(caf::actor_system& sys,
                                  const std::shared_ptr<namespace_state>& ns);

} // namespace sio::socketio
