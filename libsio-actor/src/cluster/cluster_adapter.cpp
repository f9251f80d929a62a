#include "cluster/cluster_adapter.hpp"

#include <caf/all.hpp>

#include "cluster/messages.hpp"
#include "cluster/session_handover.hpp"
#include "cluster/socket_info.hpp"
#include "engineio/atoms.hpp"
#include "socketio/local_adapter.hpp"
#include "socketio/namespace_state.hpp"
#include "util/debug_log.hpp"
#include "util/unexpected_message.hpp"

namespace sio::cluster {

namespace {

using namespace sio::socketio;

struct cluster_adapter_state : local_adapter_state {
  caf::actor cluster; // this node's cluster actor
  /// Recovery: the last state of each connected socket with a pid (pid ->
  /// state), for a member that joins later.
  std::map<std::string, persisted_session> live;
  /// hand_over requests for a pid whose socket is still connected here:
  /// answered when it leaves (its client came back elsewhere before this
  /// node saw it go, e.g. while this node stops), or after hand_over_wait.
  struct pending_hand_over {
    std::string offset;
    caf::typed_response_promise<std::optional<persisted_session>> promise;
    std::chrono::steady_clock::time_point deadline;
  };
  std::multimap<std::string, pending_hand_over> pending_hand_overs;
  static inline const char* name = "sio.cluster_adapter";
};

using cluster_adapter = adapter_actor::stateful_pointer<cluster_adapter_state>;

/// The other nodes' part of a request: the cluster actor bounds each member
/// (and finishes early when one leaves); this is only a backstop.
constexpr auto relay_margin = std::chrono::seconds{1};
constexpr auto hand_over_wait = std::chrono::seconds{2};
constexpr std::size_t max_pending_hand_overs = 1024;

selection selection_of(const std::string& nsp, const broadcast_target& t) {
  return selection{nsp, {t.rooms.begin(), t.rooms.end()}, {t.except.begin(), t.except.end()}};
}

/// Two parts (this node's, the other members'), merged into one answer.
struct ack_merge {
  int parts = 2;
  std::vector<json> answers;
  bool all_answered = true;
};

caf::result<std::vector<json>, bool> broadcast_with_ack(cluster_adapter self,
                                                        const broadcast_target& target,
                                                        const ack_emit& e) {
  auto rp = self->make_response_promise<std::vector<json>, bool>();
  auto m = std::make_shared<ack_merge>();
  if (target.local)
    m->parts = 1;
  auto part_done = [m, rp](std::vector<json> answers, bool all) mutable {
    for (auto& a : answers)
      m->answers.push_back(std::move(a));
    m->all_answered = m->all_answered && all;
    if (--m->parts == 0)
      rp.deliver(std::move(m->answers), m->all_answered);
  };
  local_part::gather_acks(self, self->state, target, e, part_done);
  if (target.local)
    return rp;
  ack_broadcast req{selection_of(self->state.nsp, target), e.event, to_bytes(e.args),
                    e.timeout.count()};
  self->request(self->state.cluster, e.timeout + relay_margin, ack_broadcast_atom::value, req)
    .then(
      [part_done](std::vector<std::string>& answers, bool all) mutable {
        std::vector<json> decoded;
        for (auto& a : answers)
          decoded.push_back(from_bytes(a));
        part_done(std::move(decoded), all);
      },
      [part_done](caf::error&) mutable { part_done({}, false); });
  return rp;
}

caf::result<std::vector<remote_socket>> fetch(cluster_adapter self, const broadcast_target& target,
                                              caf::timespan timeout) {
  auto rp = self->make_response_promise<std::vector<remote_socket>>();
  auto all = std::make_shared<std::vector<remote_socket>>();
  auto parts = std::make_shared<int>(target.local ? 1 : 2);
  auto part_done = [all, parts, rp](std::vector<remote_socket> part) mutable {
    for (auto& s : part)
      all->push_back(std::move(s));
    if (--*parts == 0)
      rp.deliver(std::move(*all));
  };
  local_part::gather_sockets(self, self->state, target, timeout, part_done);
  if (target.local)
    return rp;
  auto nsp = self->state.nsp;
  self
    ->request(self->state.cluster, timeout + relay_margin, cluster_fetch_atom::value,
              selection_of(nsp, target))
    .then(
      [part_done, nsp](std::vector<socket_info>& infos) mutable {
        std::vector<remote_socket> part;
        for (auto& info : infos)
          part.push_back(from_socket_info(std::move(info), nsp));
        part_done(std::move(part));
      },
      [part_done](caf::error&) mutable { part_done({}); });
  return rp;
}

caf::result<std::vector<json>, bool> server_emit_with_ack(cluster_adapter self,
                                                          const server_side_event& ev) {
  auto rp = self->make_response_promise<std::vector<json>, bool>();
  if (ev.local) {
    // From another node: this node's handler answers (or never does).
    local_part::run_server_side(self->state, ev, [rp](json answer) mutable {
      rp.deliver(std::vector<json>{std::move(answer)}, true);
    });
    return rp;
  }
  server_event out{self->state.nsp, ev.event, to_bytes(ev.args), ev.timeout.count()};
  self
    ->request(self->state.cluster, ev.timeout + relay_margin, cluster::server_emit_ack_atom::value,
              out)
    .then(
      [rp](std::vector<std::string>& answers, bool all) mutable {
        std::vector<json> decoded;
        for (auto& a : answers)
          decoded.push_back(from_bytes(a));
        rp.deliver(std::move(decoded), all);
      },
      [rp](caf::error&) mutable { rp.deliver(std::vector<json>{}, false); });
  return rp;
}

/// The hand_over requests waiting for socket `pid` to leave: its state (if
/// it was kept) goes to the first, nothing to the others (a pid restores once).
void answer_hand_overs(cluster_adapter self, const std::string& pid) {
  auto& pending = self->state.pending_hand_overs;
  auto [first, last] = pending.equal_range(pid);
  for (auto i = first; i != last; ++i)
    i->second.promise.deliver(local_part::restore(self->state, pid, i->second.offset, true));
  pending.erase(first, last);
}

/// `s` for the other members to keep (all of them, or member `to`).
void publish_replica(cluster_adapter self, const persisted_session& s, replica_kind kind,
                     const std::string& to = {}) {
  session_replica r;
  r.nsp = self->state.nsp;
  r.kind = static_cast<std::uint8_t>(kind);
  r.session = to_remote_session(s);
  caf::anon_send(self->state.cluster, publish_replica_atom::value, std::move(r), to);
}

void ask_members_for_replica(cluster_adapter self,
                             caf::typed_response_promise<std::optional<persisted_session>> rp,
                             const std::string& pid, const std::string& offset,
                             std::chrono::milliseconds timeout) {
  self->request(self->state.cluster, timeout, cluster_replica_atom::value, self->state.nsp, pid,
                offset)
    .then(
      [rp, pid](remote_session& r) mutable {
        util::debug_log("restore ", pid, ": members' replica found=", r.found);
        rp.deliver(from_remote_session(r));
      },
      [rp](caf::error&) mutable { rp.deliver(std::optional<persisted_session>{}); });
}

/// Restore, in a cluster (docs/recovery.md): this node's own memory first;
/// then the node that has the state (a replica here names it; else the pid's
/// tag), which hands it over with every event it has since the offset; if it
/// says it has nothing, a disconnected replica here; if it is gone (or did
/// not answer), a replica here whose log reaches back to the offset, else
/// every member's.
caf::result<std::optional<persisted_session>>
restore_in_cluster(cluster_adapter self, const std::string& pid, const std::string& offset) {
  auto& st = self->state;
  auto found = local_part::restore(st, pid, offset);
  if (found || !st.recovery)
    return found;
  auto rp = self->make_response_promise<std::optional<persisted_session>>();
  // The cluster actor bounds its request to the owner; this is a backstop.
  auto ns = st.ns.lock();
  auto timeout = (ns ? ns->options->request_timeout : std::chrono::milliseconds{5000})
                 + relay_margin;
  auto from_replica = [self, pid, offset](bool owner_gone) {
    auto& log = *self->state.recovery;
    // A log that started after the client's offset would replay with a gap:
    // then a member with a longer memory hands it over instead.
    if (owner_gone && !log.covers(offset))
      return std::optional<persisted_session>{};
    return log.take_replica(pid, offset, owner_gone, recovery_log::clock::now());
  };
  self
    ->request(st.cluster, timeout, cluster_restore_atom::value, st.nsp, pid, offset,
              st.recovery->replica_owner(pid))
    .then(
      [self, rp, pid, offset, timeout, from_replica](remote_session& r) mutable {
        util::debug_log("restore ", pid, ": owner answered found=", r.found, " gone=", r.owner_gone,
                        " replica here=", !self->state.recovery->replica_owner(pid).empty());
        if (auto s = from_remote_session(r)) {
          self->state.recovery->drop_replica(pid);
          rp.deliver(std::move(s));
        } else if (auto mine = from_replica(r.owner_gone); mine || !r.owner_gone) {
          rp.deliver(std::move(mine));
        } else {
          // Its node is gone and this node has no copy (it started later, or
          // the copy was beyond its bounds): the other members may.
          ask_members_for_replica(self, rp, pid, offset, timeout);
        }
      },
      [self, rp, pid, offset, timeout, from_replica](caf::error& err) mutable {
        util::debug_log("restore ", pid, ": owner failed: ", self->system().render(err));
        if (auto mine = from_replica(true))
          rp.deliver(std::move(mine));
        else
          ask_members_for_replica(self, rp, pid, offset, timeout);
      });
  return rp;
}

adapter_actor::behavior_type cluster_behavior(cluster_adapter self,
                                              std::weak_ptr<namespace_state> ns, std::string nsp,
                                              caf::actor cluster) {
  auto& st = self->state;
  st.ns = std::move(ns);
  st.nsp = std::move(nsp);
  st.cluster = std::move(cluster);
  self->set_default_handler(util::log_unexpected);
  local_part::start(self, st);
  // Membership, relays and room_ref requests (this node's room only) are
  // local_part::index_handlers, as in the local adapter.
  return local_part::adapter_behavior(
    self,
    [=](broadcast_atom, const broadcast_target& target, const caf::message& msg) {
      local_part::fan_out(self, self->state, target, msg);
      if (target.local)
        return;
      // Every broadcast of the namespace leaves this node in the order this
      // actor fanned it out: adapter -> cluster actor -> each member's cluster
      // actor -> its adapter, one path per pair of nodes.
      if (!msg.match_elements<engineio::send_atom, std::vector<engineio::packet_ptr>, bool>())
        return;
      remote_broadcast rb;
      rb.sel = selection_of(self->state.nsp, target);
      rb.is_volatile = target.is_volatile;
      for (auto& p : msg.get_as<std::vector<engineio::packet_ptr>>(1))
        rb.packets.push_back({p->is_binary(), p->wire()});
      caf::anon_send(self->state.cluster, publish_broadcast_atom::value, std::move(rb));
    },
    [=](emit_event_atom, const broadcast_target& target, event_emit& e) {
      auto event = e.event;
      auto args = target.local ? std::string{} : to_bytes(e.args);
      auto numbered = local_part::emit_event(self, self->state, target, std::move(e));
      if (target.local)
        return;
      // The same path as broadcast_atom's, so the two kinds stay in order.
      remote_broadcast rb;
      rb.sel = selection_of(self->state.nsp, target);
      rb.is_volatile = target.is_volatile;
      if (numbered.origin.empty()) { // not replayable: as broadcast_atom
        for (auto& p : numbered.packets)
          rb.packets.push_back({p->is_binary(), p->wire()});
      } else {
        rb.event = std::move(event);
        rb.args = std::move(args);
        rb.origin = std::move(numbered.origin);
        rb.seq = numbered.seq;
      }
      caf::anon_send(self->state.cluster, publish_broadcast_atom::value, std::move(rb));
    },
    [=](persist_atom, persisted_session& s) {
      auto& st = self->state;
      st.live.erase(s.pid);
      if (st.recovery) {
        // Its last state for the other members, with the events only this
        // node delivered (all of them: the client's offset is not known yet).
        auto copy = s;
        copy.handed_events =
          st.recovery->missed({}, s.rooms, recovery_log::which::only_local, s.born_ms);
        publish_replica(self, copy, replica_kind::disconnected);
      }
      auto pid = s.pid;
      local_part::persist(st, std::move(s));
      answer_hand_overs(self, pid);
    },
    [=](restore_atom, const std::string& pid, const std::string& offset) {
      return restore_in_cluster(self, pid, offset);
    },
    [=](checkpoint_atom, persisted_session& s) {
      publish_replica(self, s, replica_kind::connected);
      auto pid = s.pid;
      self->state.live[pid] = std::move(s);
    },
    [=](forget_atom, const std::string& pid, std::uint64_t generation) {
      self->state.live.erase(pid);
      answer_hand_overs(self, pid);
      persisted_session s;
      s.pid = pid;
      s.generation = generation;
      publish_replica(self, s, replica_kind::forget);
    },
    [=](replica_atom, persisted_session& s, const std::string& owner, replica_kind kind) {
      if (auto& log = self->state.recovery) {
        auto now = recovery_log::clock::now();
        log->expire(now);
        log->keep_replica(std::move(s), owner, kind, now);
      }
    },
    [=](owner_gone_atom, const std::string& owner) {
      if (auto& log = self->state.recovery)
        log->owner_gone(owner, recovery_log::clock::now());
    },
    [=](sync_replicas_atom, const std::string& member) {
      for (auto& kv : self->state.live)
        publish_replica(self, kv.second, replica_kind::connected, member);
    },
    [=](take_replica_atom, const std::string& pid, const std::string& offset) {
      // Asked by a member whose client's node is gone (it checked).
      auto& log = self->state.recovery;
      if (!log)
        return std::optional<persisted_session>{};
      auto had = log->replica_owner(pid);
      auto s = log->take_replica(pid, offset, true, recovery_log::clock::now());
      util::debug_log("take_replica ", pid, ": had=", had, " covers=", log->covers(offset),
                      " given=", s.has_value(), " offset=", offset);
      if (s) // with the broadcasts it missed that this node has (the asker may lack some)
        s->handed_events = merge_by_origin(
          log->missed(*decode_offset(offset), s->rooms, recovery_log::which::not_local, s->born_ms),
          std::move(s->handed_events));
      return s;
    },
    [=](flush_atom) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      auto ns = self->state.ns.lock();
      auto timeout = ns ? ns->options->request_timeout : std::chrono::milliseconds{5000};
      self->request(self->state.cluster, timeout, cluster_flush_atom::value)
        .then([rp](bool done) mutable { rp.deliver(done); },
              [rp](caf::error&) mutable { rp.deliver(false); });
      return rp;
    },
    [=](hand_over_atom, const std::string& pid,
        const std::string& offset) -> caf::result<std::optional<persisted_session>> {
      auto found = local_part::restore(self->state, pid, offset, true);
      if (found || !self->state.live.count(pid))
        return found;
      auto& pending = self->state.pending_hand_overs;
      auto now = std::chrono::steady_clock::now();
      // Bounded: the asker gives up after its timeout anyway.
      for (auto i = pending.begin(); i != pending.end();) {
        if (i->second.deadline < now) {
          i->second.promise.deliver(std::optional<persisted_session>{});
          i = pending.erase(i);
        } else {
          ++i;
        }
      }
      if (pending.size() >= max_pending_hand_overs)
        return std::optional<persisted_session>{};
      auto rp = self->make_response_promise<std::optional<persisted_session>>();
      pending.emplace(pid, cluster_adapter_state::pending_hand_over{offset, rp, now + hand_over_wait});
      return rp;
    },
    [=](add_recovered_atom, const caf::actor& socket, const caf::actor& session,
        persisted_session& restored, const std::string& offset) {
      local_part::add_recovered(self, self->state, socket, session, restored, offset);
    },
    [=](broadcast_ack_atom, const broadcast_target& target, const ack_emit& e) {
      return broadcast_with_ack(self, target, e);
    },
    [=](fetch_sockets_atom, const broadcast_target& target, caf::timespan timeout) {
      return fetch(self, target, timeout);
    },
    [=](sockets_join_atom, const broadcast_target& target, const std::vector<std::string>& rooms) {
      local_part::sockets_join(self->state, target, rooms);
      if (!target.local)
        caf::anon_send(self->state.cluster, cluster_join_atom::value,
                   selection_of(self->state.nsp, target), rooms);
    },
    [=](sockets_leave_atom, const broadcast_target& target, const std::vector<std::string>& rooms) {
      local_part::sockets_leave(self->state, target, rooms);
      if (!target.local)
        caf::anon_send(self->state.cluster, cluster_leave_atom::value,
                   selection_of(self->state.nsp, target), rooms);
    },
    [=](disconnect_sockets_atom, const broadcast_target& target, bool close) {
      local_part::disconnect_sockets(self->state, target, close);
      if (!target.local)
        caf::anon_send(self->state.cluster, cluster_disconnect_atom::value,
                   selection_of(self->state.nsp, target), close);
    },
    [=](rooms_atom) { return self->state.index.room_sizes(); },
    [=](socketio::server_emit_atom, const server_side_event& ev) {
      if (ev.local)
        local_part::run_server_side(self->state, ev, nullptr);
      else // to the other servers only, as Node's serverSideEmit
        caf::anon_send(self->state.cluster, cluster::server_emit_atom::value,
                   server_event{self->state.nsp, ev.event, to_bytes(ev.args), 0});
    },
    [=](socketio::server_emit_ack_atom, const server_side_event& ev) {
      return server_emit_with_ack(self, ev);
    },
    [=](server_count_atom) -> caf::result<std::size_t> {
      auto rp = self->make_response_promise<std::size_t>();
      self->request(self->state.cluster, caf::infinite, members_atom::value)
        .then(
          [rp](const std::vector<std::string>& others) mutable { rp.deliver(others.size() + 1); },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    });
}

} // namespace

socketio::adapter_actor spawn_cluster_adapter(caf::actor_system& sys,
                                              const std::shared_ptr<socketio::namespace_state>& ns,
                                              caf::actor cluster) {
  return sys.spawn(cluster_behavior, std::weak_ptr<socketio::namespace_state>{ns}, ns->name,
                   std::move(cluster));
}

} // namespace sio::cluster
