#include "cluster/cluster_actor.hpp"

#include "sio/cli.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "cluster/node_tag.hpp"
#include "cluster/session_handover.hpp"
#include "cluster/socket_info.hpp"
#include "cluster/websocket_relay.hpp"
#include "engineio/atoms.hpp"
#include "engineio/packet.hpp"
#include "util/debug_log.hpp"
#include "util/unexpected_message.hpp"

namespace sio::cluster {

namespace {

/// Who opened the link to a member: decides which side dials again after a loss.
struct link_origin {
  bool we_dialed = false;  // our hello was answered
  bool they_dialed = false; // their hello reached us
};

/// A request sent to every member, answered when all answered, failed, or left.
struct pending_gather {
  std::set<std::string> waiting; // member addresses
  std::vector<socket_info> results;     // fetch
  std::vector<std::string> answers;     // server-side event acks
  bool is_event = false;
  bool all_answered = true;
  caf::response_promise promise;
};

struct cluster_state {
  cluster_config cfg;
  std::map<std::uint64_t, pending_gather> gathers;
  std::uint64_t next_gather = 0;
  std::map<std::string, caf::actor> members;   // address -> cluster actor
  std::map<std::string, int> attempts;         // address -> failed contacts so far
  std::map<std::string, link_origin> origins;  // address -> who opened the current link
  std::set<std::string> awaiting_redial;       // lost members that dial us again (not we them)
  std::minstd_rand jitter{std::random_device{}()};
  std::set<std::string> connecting;            // contacts in flight
  // route requests for a tag no member has yet: answered when its node joins
  // (or failed at their deadline), id -> (tag, promise)
  std::map<std::uint64_t, std::pair<std::string, caf::response_promise>> pending_routes;
  std::uint64_t next_route = 0;
  // replica requests (connection state recovery) waiting until the members
  // this node is contacting have joined: a node that just started knows only
  // some members, and the copy may be with the others. id -> request
  struct replica_ask {
    std::string nsp, pid, offset;
    caf::typed_response_promise<remote_session> promise;
    caf::timestamp deadline;
  };
  std::map<std::uint64_t, replica_ask> replica_asks;
  std::size_t replica_asks_in_flight = 0; // waiting or asking the members
  caf::timestamp last_join{}; // when the last member joined
  std::uint64_t next_replica_ask = 0;
  // tags of members that left: their sessions are gone, a route fails at once
  std::set<std::string> departed_tags;
  static inline const char* name = "sio.cluster";
};

using route_expired_atom = caf::atom_constant<caf::atom("sio_rtexp")>;
/// Replica requests (connection state recovery) at once; beyond, a fresh socket.
constexpr std::size_t max_replica_asks = 256;
/// A replica request waiting for contacts in flight: try it again.
using replica_ask_atom = caf::atom_constant<caf::atom("sio_rpask")>;
/// A lost member that should have dialed us again by now: we dial it ourselves.
using redial_overdue_atom = caf::atom_constant<caf::atom("sio_rdovr")>;

using cluster_actor = caf::stateful_actor<cluster_state>;

void log(cluster_actor* self, const std::string& text) {
  // One write per line: workers share the primary's stderr.
  util::write_stderr("sio-actor cluster [" + self->state.cfg.self_address + "]: " + text + "\n");
}

std::vector<member_info> member_list(cluster_actor* self) {
  std::vector<member_info> list;
  list.push_back({self->state.cfg.self_address, caf::actor_cast<caf::actor>(self)});
  for (auto& [address, node] : self->state.members)
    list.push_back({address, node});
  return list;
}

/// This node's session actor with that sid (for requests forwarded to us).
std::optional<caf::actor> local_session(cluster_actor* self, const std::string& sid) {
  auto& find = self->state.cfg.find_session;
  return find ? find(sid) : std::nullopt;
}

void announce_members(cluster_actor* self) {
  if (!self->state.cfg.members_changed)
    return;
  std::vector<std::string> addresses;
  for (auto& kv : self->state.members)
    addresses.push_back(kv.first);
  self->state.cfg.members_changed(std::move(addresses));
}

/// Every member's replica of `pid`: the first copy found answers; the
/// others only drop theirs (a pid restores once).
void ask_members_for_replica(cluster_actor* self, const std::string& nsp, const std::string& pid,
                             const std::string& offset,
                             caf::typed_response_promise<remote_session> rp) {
  if (self->state.members.empty()) {
    --self->state.replica_asks_in_flight;
    rp.deliver(remote_session{});
    return;
  }
  auto left = std::make_shared<std::size_t>(self->state.members.size());
  auto answered = std::make_shared<bool>(false);
  auto part = [self, rp, left, answered](remote_session r) mutable {
    if (r.found && !*answered) {
      *answered = true;
      rp.deliver(std::move(r));
    }
    if (--*left == 0) {
      --self->state.replica_asks_in_flight;
      if (!*answered)
        rp.deliver(remote_session{});
    }
  };
  for (auto& [address, node] : self->state.members)
    self->request(node, self->state.cfg.options.request_timeout, serve_replica_atom::value, nsp,
                  pid, offset)
      .then([part](remote_session& r) mutable { part(std::move(r)); },
            [part](caf::error&) mutable { part(remote_session{}); });
}

std::vector<socketio::adapter_actor> all_adapters(cluster_actor* self) {
  auto& all = self->state.cfg.all_adapters;
  return all ? all() : std::vector<socketio::adapter_actor>{};
}

void add_member(cluster_actor* self, const std::string& address, const caf::actor& node,
                bool we_dialed) {
  auto& st = self->state;
  if (address == st.cfg.self_address || !node)
    return;
  st.attempts.erase(address);
  st.awaiting_redial.erase(address);
  auto [it, added] = st.members.emplace(address, node);
  auto& origin = st.origins[address];
  if (!added && it->second == node) {
    (we_dialed ? origin.we_dialed : origin.they_dialed) = true;
    return;
  }
  it->second = node; // new, or a restarted member: same address, new actor
  st.last_join = caf::make_timestamp();
  origin = we_dialed ? link_origin{true, false} : link_origin{false, true};
  self->monitor(node);
  log(self, "member " + address + " joined (" + std::to_string(st.members.size() + 1) + " nodes)");
  announce_members(self);
  // It keeps our connected sockets' state from now on (connection state recovery).
  for (auto& adapter : all_adapters(self))
    self->send(adapter, socketio::sync_replicas_atom::value, address);
  // Requests that arrived for its sessions before it joined us.
  auto tag = node_tag(address);
  st.departed_tags.erase(tag);
  for (auto i = st.pending_routes.begin(); i != st.pending_routes.end();) {
    if (i->second.first == tag) {
      i->second.second.deliver(node);
      i = st.pending_routes.erase(i);
    } else {
      ++i;
    }
  }
  // Pass the newcomer on, and the others to the newcomer: a member that joined
  // us before we knew it would otherwise never hear of it (the member list only
  // travels in hello answers), and of two members only the one with the smaller
  // address connects (we_connect), so both must learn of each other.
  for (auto& [other, other_node] : st.members)
    if (other != address) {
      self->send(other_node, join_member_atom::value, address);
      self->send(node, join_member_atom::value, other);
    }
}

void retry_later(cluster_actor* self, const std::string& address, const std::string& why) {
  auto& st = self->state;
  auto attempt = ++st.attempts[address];
  auto ceiling = std::min(st.cfg.options.max_retry_delay,
                          std::chrono::milliseconds{250} * (1 << std::min(attempt, 10)));
  // Between half and all of the ceiling: two nodes that failed together
  // must not try again in lockstep (see redials_after_loss()).
  auto half = ceiling.count() / 2;
  auto delay = std::chrono::milliseconds{
    half + std::uniform_int_distribution<std::int64_t>{0, half}(st.jitter)};
  log(self, "cannot reach " + address + " (" + why + "), attempt " + std::to_string(attempt)
              + ", retrying in " + std::to_string(delay.count()) + " ms");
  self->delayed_send(self, delay, join_member_atom::value, address);
}

/// Whether we open the link to a member we learned of from others (a member
/// list, a newcomer passed on, a lost link to retry): a member we were told to
/// join, or one with a larger address. Two nodes must not dial each other at
/// once: CAF's BASP then does not settle on one connection (seen: a join
/// followed by a "left" 3 s later; both hellos timing out after a healed
/// partition). The other side learns of us as well, so one of the two connects.
bool we_connect(const cluster_state& st, const std::string& address) {
  return st.cfg.self_address < address
         || std::find(st.cfg.options.join.begin(), st.cfg.options.join.end(), address)
              != st.cfg.options.join.end();
}

/// Whether we dial a lost member again. Exactly one side of a link does: the
/// one that opened it (the smaller address if both did), so the two sides of
/// a healed partition do not dial each other at once (see we_connect()). The
/// side that opened the link knows the address: a seed restarted without
/// --join still gets its joiners back. The other side waits (awaiting_redial).
bool redials_after_loss(const cluster_state& st, const std::string& address) {
  auto i = st.origins.find(address);
  if (i == st.origins.end() || !i->second.we_dialed)
    return false;
  return !i->second.they_dialed || st.cfg.self_address < address;
}

/// Connects to a member by address, introduces us, and contacts every member it knows.
void contact(cluster_actor* self, const std::string& address) {
  auto& st = self->state;
  if (address == st.cfg.self_address || st.members.count(address) || st.connecting.count(address)
      || !we_connect(st, address))
    return;
  if (st.awaiting_redial.count(address)) {
    // It dials us (it opened the lost link); told of it by another member, we
    // would dial it at the same moment. Only if it has not come back in
    // time (a restart with other seeds) do we dial it ourselves.
    self->delayed_send(self, 2 * st.cfg.options.request_timeout, redial_overdue_atom::value,
                       address);
    return;
  }
  std::string host;
  std::uint16_t port = 0;
  if (!split_host_port(address, host, port) || port == 0) {
    log(self, "ignoring malformed member address '" + address + "' (want host:port)");
    return;
  }
  st.connecting.insert(address);
  auto timeout = st.cfg.options.request_timeout;
  auto& sys = self->system();
  auto connector = st.cfg.options.insecure ? sys.middleman().actor_handle()
                                           : sys.openssl_manager().actor_handle();
  self->request(connector, timeout, caf::connect_atom::value, host, port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        auto node = caf::actor_cast<caf::actor>(ptr);
        if (!node) {
          self->state.connecting.erase(address);
          retry_later(self, address, "no actor published there");
          return;
        }
        self->request(node, timeout, hello_atom::value, self->state.cfg.self_address,
                      caf::actor_cast<caf::actor>(self))
          .then(
            [=](std::vector<member_info>& list) {
              self->state.connecting.erase(address);
              add_member(self, address, node, true);
              for (auto& m : list)
                if (m.address != address)
                  contact(self, m.address); // full mesh: a direct connection to each
            },
            [=](caf::error& err) {
              self->state.connecting.erase(address);
              retry_later(self, address, self->system().render(err));
            });
      },
      [=](caf::error& err) {
        self->state.connecting.erase(address);
        retry_later(self, address, self->system().render(err));
      });
}

void finish_if_done(cluster_actor* self, std::uint64_t id) {
  auto i = self->state.gathers.find(id);
  if (i == self->state.gathers.end() || !i->second.waiting.empty())
    return;
  auto& g = i->second;
  if (g.is_event)
    g.promise.deliver(std::move(g.answers), g.all_answered);
  else
    g.promise.deliver(std::move(g.results));
  self->state.gathers.erase(i);
}

/// Marks `address` as answered (or gone) for gather `id`.
void settle(cluster_actor* self, std::uint64_t id, const std::string& address) {
  auto i = self->state.gathers.find(id);
  if (i == self->state.gathers.end())
    return;
  i->second.waiting.erase(address);
  finish_if_done(self, id);
}

/// A new gather waiting for every current member; the caller sends the requests.
std::uint64_t start_gather(cluster_actor* self, caf::response_promise rp, bool is_event) {
  auto id = self->state.next_gather++;
  auto& g = self->state.gathers[id];
  g.promise = std::move(rp);
  g.is_event = is_event;
  for (auto& kv : self->state.members)
    g.waiting.insert(kv.first);
  return id;
}

/// A member that failed to answer: the result says so, and it counts as settled.
void member_failed(cluster_actor* self, std::uint64_t id, const std::string& address) {
  auto i = self->state.gathers.find(id);
  if (i != self->state.gathers.end())
    i->second.all_answered = false;
  settle(self, id, address);
}

/// This node's adapter of namespace `nsp`; invalid if the namespace does not
/// exist here (then nobody here can match a request for it).
socketio::adapter_actor adapter_for(cluster_actor* self, const std::string& nsp) {
  auto& find = self->state.cfg.find_adapter;
  return find ? find(nsp) : socketio::adapter_actor{};
}

/// A member's selection as a target for this node's adapter: local, since
/// the member asks every node itself.
socketio::broadcast_target local_target(const selection& sel, bool is_volatile = false) {
  socketio::broadcast_target t;
  t.rooms = {sel.rooms.begin(), sel.rooms.end()};
  t.except = {sel.except.begin(), sel.except.end()};
  t.is_volatile = is_volatile;
  t.local = true;
  return t;
}

/// Asks every member for its matching sockets; answers with all that came in.
caf::response_promise gather_fetch(cluster_actor* self, const selection& req) {
  auto rp = self->make_response_promise();
  auto id = start_gather(self, rp, false);
  for (auto& [address, node] : self->state.members) {
    auto addr = address;
    self->request(node, self->state.cfg.options.request_timeout, serve_fetch_atom::value, req)
      .then(
        [=](std::vector<socket_info>& part) {
          auto i = self->state.gathers.find(id);
          if (i != self->state.gathers.end())
            for (auto& s : part)
              i->second.results.push_back(std::move(s));
          settle(self, id, addr);
        },
        [=](caf::error&) { member_failed(self, id, addr); });
  }
  finish_if_done(self, id);
  return rp;
}

/// Sends a server-side event to every member and gathers one answer each.
caf::response_promise gather_event_acks(cluster_actor* self, const server_event& ev) {
  auto rp = self->make_response_promise();
  auto id = start_gather(self, rp, true);
  for (auto& [address, node] : self->state.members) {
    auto addr = address;
    auto timeout = ev.timeout_ms > 0 ? std::chrono::milliseconds{ev.timeout_ms}
                                     : self->state.cfg.options.request_timeout;
    self->request(node, timeout, serve_server_emit_ack_atom::value, ev)
      .then(
        [=](std::string& answer) {
          auto i = self->state.gathers.find(id);
          if (i != self->state.gathers.end())
            i->second.answers.push_back(std::move(answer));
          settle(self, id, addr);
        },
        [=](caf::error&) { member_failed(self, id, addr); });
  }
  finish_if_done(self, id);
  return rp;
}

/// Asks every member for its part of a broadcast with ack and merges them.
caf::response_promise gather_ack_broadcast(cluster_actor* self, const ack_broadcast& req) {
  auto rp = self->make_response_promise();
  auto id = start_gather(self, rp, true);
  // A member gets a little more than its sockets' deadline to send its part.
  auto timeout = std::chrono::milliseconds{req.timeout_ms} + std::chrono::milliseconds{500};
  for (auto& [address, node] : self->state.members) {
    auto addr = address;
    self->request(node, timeout, serve_ack_broadcast_atom::value, req)
      .then(
        [=](std::vector<std::string>& answers, bool all_answered) {
          auto i = self->state.gathers.find(id);
          if (i != self->state.gathers.end()) {
            for (auto& a : answers)
              i->second.answers.push_back(std::move(a));
            i->second.all_answered = i->second.all_answered && all_answered;
          }
          settle(self, id, addr);
        },
        [=](caf::error&) { member_failed(self, id, addr); });
  }
  finish_if_done(self, id);
  return rp;
}

caf::behavior cluster(cluster_actor* self, cluster_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_default_handler(util::log_unexpected);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& members = self->state.members;
    for (auto i = members.begin(); i != members.end(); ++i) {
      if (i->second.address() == dm.source) {
        log(self, "member " + i->first + " left (" + self->system().render(dm.reason) + ")");
        auto address = i->first;
        members.erase(i);
        bool redial = redials_after_loss(self->state, address);
        self->state.origins.erase(address);
        auto& departed = self->state.departed_tags;
        if (departed.size() >= 1024)
          departed.clear(); // bounded; a forgotten tag only waits for the timeout again
        departed.insert(node_tag(address));
        announce_members(self);
        // Its sockets' state kept here becomes restorable (connection state recovery).
        for (auto& adapter : all_adapters(self))
          self->send(adapter, socketio::owner_gone_atom::value, address);
        // Requests waiting for it finish now with what is in, not at their timeout.
        std::vector<std::uint64_t> ids;
        for (auto& kv : self->state.gathers)
          ids.push_back(kv.first);
        // Incomplete, as Node reports it (a timeout with what arrived).
        for (auto id : ids)
          member_failed(self, id, address);
        // Lost, not stopped (a crash, a network partition): keep trying, so
        // the two sides of a healed partition join again by themselves.
        if (dm.reason != caf::exit_reason::user_shutdown && dm.reason != caf::exit_reason::normal) {
          if (redial) {
            retry_later(self, address, "lost");
          } else {
            auto& awaiting = self->state.awaiting_redial;
            if (awaiting.size() >= 1024)
              awaiting.clear(); // bounded; a forgotten one is only dialed sooner
            awaiting.insert(address);
            log(self, "waiting for " + address + " to dial again (it opened the link)");
          }
        }
        return;
      }
    }
  });
  return {
    [=](start_atom, const std::string& self_address) {
      self->state.cfg.self_address = self_address;
      for (auto& address : self->state.cfg.options.join)
        contact(self, address);
    },
    [=](join_member_atom, const std::string& address) { contact(self, address); },
    [=](redial_overdue_atom, const std::string& address) {
      if (self->state.awaiting_redial.erase(address))
        contact(self, address);
    },
    [=](hello_atom, const std::string& address, const caf::actor& node) {
      add_member(self, address, node, false);
      return member_list(self);
    },
    [=](route_atom, const std::string& tag) {
      auto rp = self->make_response_promise();
      for (auto& [address, node] : self->state.members)
        if (node_tag(address) == tag) {
          rp.deliver(node);
          return rp;
        }
      if (self->state.departed_tags.count(tag)) {
        rp.deliver(caf::make_error(caf::sec::invalid_argument, "member with tag " + tag + " left"));
        return rp;
      }
      // A sid can reach us before its node has joined us: a node serves (and
      // a primary hands it sessions) while the mesh is still forming, and a
      // join may wait for a connection attempt to time out. Wait for it,
      // bounded by the request timeout.
      auto id = self->state.next_route++;
      self->state.pending_routes.emplace(id, std::make_pair(tag, rp));
      self->delayed_send(self, self->state.cfg.options.request_timeout, route_expired_atom::value, id);
      return rp;
    },
    [=](route_expired_atom, std::uint64_t id) {
      auto i = self->state.pending_routes.find(id);
      if (i == self->state.pending_routes.end())
        return;
      i->second.second.deliver(
        caf::make_error(caf::sec::invalid_argument, "no member with tag " + i->second.first));
      self->state.pending_routes.erase(i);
    },
    [=](fwd_poll_atom, const std::string& sid, const caf::actor& forwarder) {
      auto session = local_session(self, sid);
      if (!session)
        return false;
      std::shared_ptr<engineio::poll_responder> r =
        std::make_shared<actor_poll_responder>(forwarder);
      self->send(*session, engineio::poll_atom::value, std::move(r));
      return true;
    },
    [=](fwd_ws_atom, const std::string& sid,
        const caf::actor& relay) -> caf::result<caf::actor, std::uint64_t> {
      auto session = local_session(self, sid);
      if (!session)
        return caf::make_error(caf::sec::invalid_argument, "Session ID unknown");
      auto channel = std::make_shared<remote_ws_channel>(relay);
      auto id = channel->id();
      self->send(*session, engineio::ws_open_atom::value,
                 std::shared_ptr<engineio::ws_channel>{std::move(channel)});
      return {*session, id};
    },
    [=](fwd_post_atom, const std::string& sid, const std::string& body) {
      auto session = local_session(self, sid);
      if (!session)
        return false;
      // The session decodes it: only it knows its protocol (v3 or v4).
      self->send(*session, engineio::post_body_atom::value, body);
      return true;
    },
    [=](members_atom) {
      std::vector<std::string> addresses;
      for (auto& kv : self->state.members)
        addresses.push_back(kv.first);
      return addresses;
    },
    [=](publish_broadcast_atom, const remote_broadcast& rb) {
      for (auto& kv : self->state.members)
        self->send(kv.second, remote_broadcast_atom::value, rb);
    },
    [=](remote_broadcast_atom, const remote_broadcast& rb) {
      auto adapter = adapter_for(self, rb.sel.nsp);
      if (!adapter)
        return;
      if (!rb.origin.empty()) {
        // Encoded here, once: with this node's offset (connection state recovery).
        socketio::event_emit e{rb.event, from_bytes(rb.args), rb.origin, rb.seq};
        if (!e.args.is_array())
          return;
        self->send(adapter, socketio::emit_event_atom::value, local_target(rb.sel, rb.is_volatile),
                   std::move(e));
        return;
      }
      // Decoded once here; this node's adapter hands the same message to each session.
      std::vector<engineio::packet_ptr> packets;
      for (auto& p : rb.packets)
        packets.push_back(
          std::make_shared<const engineio::packet>(engineio::packet::from_wire(p.wire, p.binary)));
      self->send(adapter, socketio::broadcast_atom::value, local_target(rb.sel, rb.is_volatile),
                 caf::make_message(engineio::send_atom::value, std::move(packets), rb.is_volatile));
    },
    [=](cluster_restore_atom, const std::string& nsp, const std::string& pid,
        const std::string& offset, const std::string& owner_address) -> caf::result<remote_session> {
      // The owner: the member a replica names, else the one whose tag the pid
      // carries (it issued it, as a sid).
      auto tag = tag_of_sid(pid);
      caf::actor owner;
      for (auto& [address, node] : self->state.members)
        if (owner_address.empty() ? (!tag.empty() && node_tag(address) == tag)
                                  : address == owner_address)
          owner = node;
      remote_session gone;
      gone.owner_gone = true;
      if (!owner)
        return gone; // gone, or never ours
      auto rp = self->make_response_promise<remote_session>();
      self->request(owner, self->state.cfg.options.request_timeout, serve_restore_atom::value, nsp,
                    pid, offset)
        .then([rp](remote_session& r) mutable { rp.deliver(std::move(r)); },
              [rp, gone](caf::error&) mutable { rp.deliver(gone); });
      return rp;
    },
    [=](publish_replica_atom, session_replica& r, const std::string& to) {
      r.owner = self->state.cfg.self_address;
      for (auto& [address, node] : self->state.members)
        if (to.empty() || to == address)
          self->send(node, remote_replica_atom::value, r);
    },
    [=](remote_replica_atom, const session_replica& r) {
      auto adapter = adapter_for(self, r.nsp);
      auto s = from_remote_session(r.session);
      if (!adapter || !s || r.kind > static_cast<std::uint8_t>(socketio::replica_kind::forget))
        return;
      s->moved = false; // set when it is restored
      self->send(adapter, socketio::replica_atom::value, std::move(*s), r.owner,
                 static_cast<socketio::replica_kind>(r.kind));
    },
    [=](ping_atom) { return true; },
    [=](cluster_replica_atom, const std::string& nsp, const std::string& pid,
        const std::string& offset) -> caf::result<remote_session> {
      // Each ask costs one request per member: bounded, since any client can
      // send a pid naming a node that is gone (or never was).
      if (self->state.replica_asks_in_flight >= max_replica_asks)
        return remote_session{};
      ++self->state.replica_asks_in_flight; // until ask_members_for_replica is done
      auto rp = self->make_response_promise<remote_session>();
      auto id = self->state.next_replica_ask++;
      self->state.replica_asks.emplace(
        id, cluster_state::replica_ask{nsp, pid, offset, rp,
                                       caf::make_timestamp() + std::chrono::seconds{2}});
      self->send(self, replica_ask_atom::value, id);
      return rp;
    },
    [=](replica_ask_atom, std::uint64_t id) {
      auto i = self->state.replica_asks.find(id);
      if (i == self->state.replica_asks.end())
        return;
      // Settled: no contact in flight, and none joined for a moment (a
      // newcomer hears of the other members only from those it met first).
      auto now = caf::make_timestamp();
      bool settling = !self->state.connecting.empty()
                      || now - self->state.last_join < std::chrono::milliseconds{300};
      if (settling && now < i->second.deadline) {
        self->delayed_send(self, std::chrono::milliseconds{50}, replica_ask_atom::value, id);
        return;
      }
      auto ask = std::move(i->second);
      self->state.replica_asks.erase(i);
      ask_members_for_replica(self, ask.nsp, ask.pid, ask.offset, ask.promise);
    },
    [=](serve_replica_atom, const std::string& nsp, const std::string& pid,
        const std::string& offset) -> caf::result<remote_session> {
      auto adapter = adapter_for(self, nsp);
      if (!adapter)
        return remote_session{};
      auto rp = self->make_response_promise<remote_session>();
      self->request(adapter, self->state.cfg.options.request_timeout,
                    socketio::take_replica_atom::value, pid, offset)
        .then(
          [rp](std::optional<socketio::persisted_session>& s) mutable {
            rp.deliver(to_remote_session(s));
          },
          [rp](caf::error&) mutable { rp.deliver(remote_session{}); });
      return rp;
    },
    [=](cluster_flush_atom) -> caf::result<bool> {
      // Messages between two actors arrive in order: once a member answered
      // a ping, everything sent to it before has arrived.
      if (self->state.members.empty())
        return true; // (before a promise exists: it would take the answer over)
      auto rp = self->make_response_promise<bool>();
      auto left = std::make_shared<std::size_t>(self->state.members.size());
      for (auto& [address, node] : self->state.members)
        self->request(node, self->state.cfg.options.request_timeout, ping_atom::value)
          .then([rp, left](bool) mutable { if (--*left == 0) rp.deliver(true); },
                [rp, left](caf::error&) mutable { if (--*left == 0) rp.deliver(true); });
      return rp;
    },
    [=](serve_restore_atom, const std::string& nsp, const std::string& pid,
        const std::string& offset) -> caf::result<remote_session> {
      auto adapter = adapter_for(self, nsp);
      if (!adapter)
        return remote_session{};
      auto rp = self->make_response_promise<remote_session>();
      self->request(adapter, self->state.cfg.options.request_timeout,
                    socketio::hand_over_atom::value, pid, offset)
        .then(
          [rp](std::optional<socketio::persisted_session>& s) mutable {
            rp.deliver(to_remote_session(s));
          },
          [rp](caf::error&) mutable { rp.deliver(remote_session{}); });
      return rp;
    },
    [=](cluster_fetch_atom, const selection& sel) { return gather_fetch(self, sel); },
    [=](serve_fetch_atom, const selection& sel) {
      auto rp = self->make_response_promise();
      auto adapter = adapter_for(self, sel.nsp);
      if (!adapter) {
        rp.deliver(std::vector<socket_info>{});
        return rp;
      }
      auto timeout = self->state.cfg.options.request_timeout;
      self->request(adapter, timeout + std::chrono::seconds{1}, socketio::fetch_sockets_atom::value,
                    local_target(sel), caf::timespan{timeout})
        .then(
          [rp](std::vector<remote_socket>& sockets) mutable {
            std::vector<socket_info> infos;
            for (auto& s : sockets)
              infos.push_back(to_socket_info(s));
            rp.deliver(std::move(infos));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](cluster_join_atom, const selection& sel, const std::vector<std::string>& rooms) {
      for (auto& kv : self->state.members)
        self->send(kv.second, serve_join_atom::value, sel, rooms);
    },
    [=](serve_join_atom, const selection& sel, const std::vector<std::string>& rooms) {
      if (auto adapter = adapter_for(self, sel.nsp))
        self->send(adapter, socketio::sockets_join_atom::value, local_target(sel), rooms);
    },
    [=](cluster_leave_atom, const selection& sel, const std::vector<std::string>& rooms) {
      for (auto& kv : self->state.members)
        self->send(kv.second, serve_leave_atom::value, sel, rooms);
    },
    [=](serve_leave_atom, const selection& sel, const std::vector<std::string>& rooms) {
      if (auto adapter = adapter_for(self, sel.nsp))
        self->send(adapter, socketio::sockets_leave_atom::value, local_target(sel), rooms);
    },
    [=](cluster_disconnect_atom, const selection& sel, bool close) {
      for (auto& kv : self->state.members)
        self->send(kv.second, serve_disconnect_atom::value, sel, close);
    },
    [=](serve_disconnect_atom, const selection& sel, bool close) {
      if (auto adapter = adapter_for(self, sel.nsp))
        self->send(adapter, socketio::disconnect_sockets_atom::value, local_target(sel), close);
    },
    [=](server_emit_atom, const server_event& ev) {
      for (auto& kv : self->state.members)
        self->send(kv.second, serve_server_emit_atom::value, ev);
    },
    [=](serve_server_emit_atom, const server_event& ev) {
      // The handler runs in this node's adapter of the namespace.
      if (auto adapter = adapter_for(self, ev.nsp))
        self->send(adapter, socketio::server_emit_atom::value,
                   socketio::server_side_event{ev.event, from_bytes(ev.args), {}, true});
    },
    [=](server_emit_ack_atom, const server_event& ev) { return gather_event_acks(self, ev); },
    [=](ack_broadcast_atom, const ack_broadcast& req) { return gather_ack_broadcast(self, req); },
    [=](serve_ack_broadcast_atom, const ack_broadcast& req) {
      auto rp = self->make_response_promise();
      auto adapter = adapter_for(self, req.sel.nsp);
      if (!adapter) {
        rp.deliver(std::vector<std::string>{}, true);
        return rp;
      }
      auto timeout = std::chrono::milliseconds{req.timeout_ms};
      // The adapter answers within `timeout`; the asking node allows a little more.
      self->request(adapter, timeout + std::chrono::milliseconds{500},
                    socketio::broadcast_ack_atom::value, local_target(req.sel),
                    socketio::ack_emit{req.event, from_bytes(req.args), timeout})
        .then(
          [rp](std::vector<json>& answers, bool all) mutable {
            std::vector<std::string> bytes;
            for (auto& a : answers)
              bytes.push_back(to_bytes(a));
            rp.deliver(std::move(bytes), all);
          },
          [rp](caf::error&) mutable { rp.deliver(std::vector<std::string>{}, false); });
      return rp;
    },
    [=](serve_server_emit_ack_atom, const server_event& ev) {
      auto rp = self->make_response_promise();
      auto adapter = adapter_for(self, ev.nsp);
      // No namespace, no handler, or one that never acks: the asking node
      // times out on us (as Node).
      if (!adapter)
        return rp;
      auto timeout = ev.timeout_ms > 0 ? std::chrono::milliseconds{ev.timeout_ms}
                                       : self->state.cfg.options.request_timeout;
      self->request(adapter, timeout, socketio::server_emit_ack_atom::value,
                    socketio::server_side_event{ev.event, from_bytes(ev.args), timeout, true})
        .then(
          [rp](std::vector<json>& answers, bool) mutable {
            rp.deliver(to_bytes(answers.empty() ? json() : answers.front()));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_cluster_actor(caf::actor_system& sys, cluster_config cfg) {
  return sys.spawn(cluster, std::move(cfg));
}

void actor_poll_responder::send_payload(std::string payload) {
  caf::anon_send(forwarder_, poll_answer_atom::value, std::uint32_t{200}, std::move(payload));
}

void actor_poll_responder::send_binary_payload(std::string) {
  // Sessions answer relayed GETs with text payloads only (see relayed()).
  send_error(500, "");
}

void actor_poll_responder::send_error(unsigned status, std::string json_body) {
  caf::anon_send(forwarder_, poll_answer_atom::value, static_cast<std::uint32_t>(status),
                 std::move(json_body));
}

} // namespace sio::cluster
