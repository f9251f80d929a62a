#include "socketio/local_adapter.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "engineio/atoms.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/room_actor.hpp"
#include "socketio/wire.hpp"
#include "util/debug_log.hpp"
#include "util/unexpected_message.hpp"

namespace sio::socketio {

namespace local_part {

namespace {

/// One answer per socket; finished once every request answered or failed.
template <class Result>
struct gather_state {
  std::size_t pending = 0;
  bool timed_out = false;
  std::vector<Result> results;
};

std::vector<caf::actor> sockets_of(local_adapter_state& st, const broadcast_target& target) {
  std::vector<caf::actor> out;
  st.index.for_each(target, [&](const std::string&, room_index::entry& e) {
    out.push_back(e.socket);
  });
  return out;
}

} // namespace

void start(self_ptr self, local_adapter_state& st) {
  if (auto ns = st.ns.lock()) {
    st.format = ns->options->parser;
    if (ns->options->connection_state_recovery.enabled)
      st.recovery.emplace(ns->origin, ns->options->connection_state_recovery);
  }
  auto adapter = caf::actor_cast<caf::actor>(self);
  st.index.spawn_rooms_with([&sys = self->system(), ns = st.ns, nsp = st.nsp,
                             adapter](const std::string& room) {
    return spawn_room_actor(sys, ns, nsp, room, adapter);
  });
}

void fan_out(self_ptr self, local_adapter_state& st, const broadcast_target& target,
             const caf::message& msg) {
  // Every broadcast of the namespace passes here: one path from any sender to
  // each session keeps broadcasts in the order they were sent.
  st.index.for_each(target, [&](const std::string&, room_index::entry& e) {
    e.session->enqueue(nullptr, caf::make_message_id(), msg, self->context());
  });
  // Beside the delivery path: each named room in the target sees the same
  // message (one enqueue per room actor; none for a namespace-wide broadcast).
  st.index.for_each_room_actor(target, [&](const caf::actor& room) {
    room->enqueue(nullptr, caf::make_message_id(), msg, self->context());
  });
}

numbered_event emit_event(self_ptr self, local_adapter_state& st, const broadcast_target& target,
                          event_emit e) {
  numbered_event numbered;
  auto& packets = numbered.packets;
  if (st.recovery && !target.is_volatile) {
    auto& log = *st.recovery;
    auto now = recovery_log::clock::now();
    log.expire(now);
    numbered.origin = e.origin.empty() ? log.origin() : e.origin;
    numbered.seq = e.origin.empty() ? log.next_seq() : e.seq;
    // As Node: the offset is the last argument (old clients just see one more).
    e.args.push_back(log.advance(numbered.origin, numbered.seq, now));
    packets = make_event(st.format, st.nsp, e.event, e.args);
    // Only this node delivers it: started here for this node only (socket.emit,
    // local()). An event from another node has its target made local too.
    bool only_here = target.local && e.origin.empty();
    log.append(numbered.origin, numbered.seq, target.rooms, target.except, only_here, packets,
               now);
  } else {
    packets = make_event(st.format, st.nsp, e.event, e.args);
  }
  fan_out(self, st, target,
          caf::make_message(engineio::send_atom::value, packets, target.is_volatile));
  return numbered;
}

void persist(local_adapter_state& st, persisted_session s) {
  if (!st.recovery)
    return;
  auto now = recovery_log::clock::now();
  st.recovery->expire(now);
  st.recovery->persist(std::move(s), now);
}

std::optional<persisted_session> restore(local_adapter_state& st, const std::string& pid,
                                         const std::string& offset, bool hand_over) {
  if (!st.recovery)
    return std::nullopt;
  auto now = recovery_log::clock::now();
  st.recovery->expire(now);
  auto found = st.recovery->take(pid, offset, now);
  if (found && hand_over) {
    // All it missed that this node has: the other node's log may lack some.
    found->handed_events = st.recovery->missed(*decode_offset(offset), found->rooms,
                                               recovery_log::which::all, found->born_ms);
    found->moved = true;
  }
  return found;
}

void add_recovered(self_ptr self, local_adapter_state& st, const caf::actor& socket,
                   const caf::actor& session, persisted_session& restored,
                   const std::string& offset) {
  if (st.recovery) {
    if (auto since = decode_offset(offset)) {
      // Handed-over events it had already received (a replica's come unfiltered).
      auto& theirs = restored.handed_events;
      theirs.erase(std::remove_if(theirs.begin(), theirs.end(),
                                  [&](const logged_event& e) {
                                    auto j = since->find(e.origin);
                                    return j != since->end() && e.seq <= j->second;
                                  }),
                   theirs.end());
      // This node's own local() broadcasts were not for a socket that was elsewhere.
      auto kind = restored.moved ? recovery_log::which::not_local : recovery_log::which::all;
      auto events = merge_by_origin(st.recovery->missed(*since, restored.rooms, kind, restored.born_ms),
                                    std::move(theirs));
      for (auto& e : events)
        session->enqueue(nullptr, caf::make_message_id(),
                         caf::make_message(engineio::send_atom::value, std::move(e.encoded), false),
                         self->context());
    }
  }
  st.index.add(restored.sid, socket, session);
  for (auto& room : restored.rooms)
    st.index.join(restored.sid, room);
}

void send_to_room(const local_adapter_state& st, const std::string& room,
                  const caf::message& msg) {
  if (auto a = st.index.room_actor(room))
    caf::anon_send(a, room_app_atom::value, msg);
}

void gather_acks(self_ptr self, local_adapter_state& st, const broadcast_target& target,
                 const ack_emit& e, acks_done done) {
  auto sockets = sockets_of(st, target);
  auto ns = st.ns.lock();
  if (sockets.empty() || !ns) {
    done({}, true);
    return;
  }
  // Ack ids are per namespace: a broadcast ack and a socket's own never collide.
  auto id = ns->next_ack_id++;
  auto packets = make_event(st.format, st.nsp, e.event, e.args, id);
  auto t = std::max(e.timeout, std::chrono::milliseconds{1});
  auto g = std::make_shared<gather_state<json>>();
  g->pending = sockets.size();
  auto finish_one = [g, done] {
    if (--g->pending == 0)
      done(std::move(g->results), !g->timed_out);
  };
  for (auto& s : sockets)
    self->request(s, t, ack_request_atom::value, id, packets, t)
      .then(
        [g, finish_one](json& answer) {
          // Node hands the first ack argument of each client.
          g->results.push_back(answer.is_array() && !answer.empty() ? std::move(answer[0])
                                                                    : json());
          finish_one();
        },
        [g, finish_one](caf::error& err) {
          // A socket that left counts as "no answer", not as a timeout.
          if (err != caf::sec::request_receiver_down)
            g->timed_out = true;
          finish_one();
        });
}

void gather_sockets(self_ptr self, local_adapter_state& st, const broadcast_target& target,
                    caf::timespan timeout, std::function<void(std::vector<remote_socket>)> done) {
  auto sockets = sockets_of(st, target);
  if (sockets.empty()) {
    done({});
    return;
  }
  auto g = std::make_shared<gather_state<remote_socket>>();
  g->pending = sockets.size();
  auto finish_one = [g, done] {
    if (--g->pending == 0)
      done(std::move(g->results));
  };
  for (auto& s : sockets)
    self->request(s, timeout, fetch_atom::value)
      .then(
        [g, finish_one](remote_socket& rs) {
          g->results.push_back(std::move(rs));
          finish_one();
        },
        [finish_one](caf::error&) { finish_one(); });
}

void sockets_join(local_adapter_state& st, const broadcast_target& target,
                  const std::vector<std::string>& rooms) {
  st.index.for_each(target, [&](const std::string&, room_index::entry& e) {
    caf::anon_send(e.socket, join_atom::value, rooms);
  });
}

void sockets_leave(local_adapter_state& st, const broadcast_target& target,
                   const std::vector<std::string>& rooms) {
  st.index.for_each(target, [&](const std::string&, room_index::entry& e) {
    for (auto& room : rooms)
      caf::anon_send(e.socket, leave_atom::value, room);
  });
}

void disconnect_sockets(local_adapter_state& st, const broadcast_target& target,
                        bool close) {
  st.index.for_each(target, [&](const std::string&, room_index::entry& e) {
    caf::anon_send(e.socket, disconnect_atom::value, close);
  });
}

void run_server_side(const local_adapter_state& st, const server_side_event& ev,
                     std::function<void(json)> ack) {
  auto ns = st.ns.lock();
  if (!ns)
    return;
  auto handlers = ns->handlers();
  auto i = handlers->server_side.find(ev.event);
  if (i == handlers->server_side.end())
    return; // with ack: the asking node times out on us, as Node
  ack_handle reply;
  if (ack)
    reply = ack_handle{[ack](json args) {
      ack(args.is_array() && !args.empty() ? std::move(args[0]) : json());
    }};
  try {
    i->second(ev.args, reply);
  } catch (const std::exception& e) {
    util::log_line("server-side handler '", ev.event, "' threw: ", e.what());
  }
}

} // namespace local_part

namespace {

using local_adapter = adapter_actor::stateful_pointer<local_adapter_state>;

// Spawned with arguments: CAF 0.17 dereferences a null argument tuple when a
// function-based actor has none (UBSan reports it).
adapter_actor::behavior_type local_behavior(local_adapter self, std::weak_ptr<namespace_state> ns,
                                            std::string nsp) {
  auto& st = self->state;
  st.ns = std::move(ns);
  st.nsp = std::move(nsp);
  self->set_default_handler(util::log_unexpected);
  local_part::start(self, st);
  return local_part::adapter_behavior(
    self,
    [=](broadcast_atom, const broadcast_target& target, const caf::message& msg) {
      local_part::fan_out(self, self->state, target, msg);
    },
    [=](emit_event_atom, const broadcast_target& target, event_emit& e) {
      local_part::emit_event(self, self->state, target, std::move(e));
    },
    [=](persist_atom, persisted_session& s) { local_part::persist(self->state, std::move(s)); },
    [=](restore_atom, const std::string& pid, const std::string& offset) {
      return local_part::restore(self->state, pid, offset);
    },
    [=](hand_over_atom, const std::string& pid, const std::string& offset) {
      return local_part::restore(self->state, pid, offset, true);
    },
    [=](add_recovered_atom, const caf::actor& socket, const caf::actor& session,
        persisted_session& restored, const std::string& offset) {
      local_part::add_recovered(self, self->state, socket, session, restored, offset);
    },
    // A single node has no one to keep copies for.
    [=](checkpoint_atom, const persisted_session&) {},
    [=](forget_atom, const std::string&, std::uint64_t) {},
    [=](replica_atom, const persisted_session&, const std::string&, replica_kind) {},
    [=](owner_gone_atom, const std::string&) {},
    [=](sync_replicas_atom, const std::string&) {},
    [=](flush_atom) { return true; },
    [=](take_replica_atom, const std::string&, const std::string&) {
      return std::optional<persisted_session>{};
    },
    [=](broadcast_ack_atom, const broadcast_target& target,
        const ack_emit& e) -> caf::result<std::vector<json>, bool> {
      auto rp = self->make_response_promise<std::vector<json>, bool>();
      local_part::gather_acks(self, self->state, target, e,
                              [rp](std::vector<json> answers, bool all) mutable {
                                rp.deliver(std::move(answers), all);
                              });
      return rp;
    },
    [=](fetch_sockets_atom, const broadcast_target& target,
        caf::timespan timeout) -> caf::result<std::vector<remote_socket>> {
      auto rp = self->make_response_promise<std::vector<remote_socket>>();
      local_part::gather_sockets(self, self->state, target, timeout,
                                 [rp](std::vector<remote_socket> sockets) mutable {
                                   rp.deliver(std::move(sockets));
                                 });
      return rp;
    },
    [=](sockets_join_atom, const broadcast_target& target, const std::vector<std::string>& rooms) {
      local_part::sockets_join(self->state, target, rooms);
    },
    [=](sockets_leave_atom, const broadcast_target& target, const std::vector<std::string>& rooms) {
      local_part::sockets_leave(self->state, target, rooms);
    },
    [=](disconnect_sockets_atom, const broadcast_target& target, bool close) {
      local_part::disconnect_sockets(self->state, target, close);
    },
    [=](rooms_atom) { return self->state.index.room_sizes(); },
    // A single node has no other servers: an emit reaches nobody (as Node's
    // serverSideEmit on one node), and one with ack is answered at once.
    [=](server_emit_atom, const server_side_event& ev) {
      if (ev.local)
        local_part::run_server_side(self->state, ev, nullptr);
    },
    [=](server_emit_ack_atom, const server_side_event& ev) -> caf::result<std::vector<json>, bool> {
      auto rp = self->make_response_promise<std::vector<json>, bool>();
      if (!ev.local)
        rp.deliver(std::vector<json>{}, true);
      else
        local_part::run_server_side(self->state, ev, [rp](json answer) mutable {
          rp.deliver(std::vector<json>{std::move(answer)}, true);
        });
      return rp;
    },
    [=](server_count_atom) { return std::size_t{1}; });
}

} // namespace

adapter_actor spawn_local_adapter(caf::actor_system& sys,
                                  const std::shared_ptr<namespace_state>& ns) {
  return sys.spawn(local_behavior, std::weak_ptr<namespace_state>{ns}, ns->name);
}

} // namespace sio::socketio
