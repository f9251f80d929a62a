// Shared helpers for the unit tests that run real actors (no network):
// recorder ("probe") actors that stand in for Engine.IO sessions and socket
// actors, a thread-safe log of what they received, and bounded waits.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <catch2/catch.hpp>

#include "engineio/atoms.hpp"
#include "socketio/handle_access.hpp"
#include "engineio/packet.hpp"
#include "socketio/adapter.hpp"
#include "socketio/atoms.hpp"
#include "sio/server.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/packet.hpp"
#include "socketio/socket_actor.hpp"
#include "socketio/wire.hpp"

namespace sio_test {

using namespace std::chrono_literals;
using namespace sio::socketio;
using sio::json;

/// Upper bound of every wait in the tests; only reached when a test fails.
constexpr auto wait_limit = std::chrono::seconds(3);

/// (ping_atom) -> true: a probe answers once it handled everything before it.
using ping_atom = caf::atom_constant<caf::atom("t_ping")>;
/// (release_atom) -> delivers the ack requests a probe held back.
using release_atom = caf::atom_constant<caf::atom("t_release")>;

/// One message a probe received.
struct record {
  std::string who;
  /// "send", "join", "leave", "disconnect", "ack_request", "fetch",
  /// "connected", "gone".
  std::string kind;
  /// send / ack_request: the text of each packet ("<binary>" for binary ones);
  /// join: the rooms; leave: the room; connected / gone: the namespace.
  std::vector<std::string> items;
  /// send: is_volatile; disconnect / gone: close.
  bool flag = false;
  /// ack_request: the ack id.
  std::uint64_t id = 0;
  /// ack_request: how long the requester waits.
  std::chrono::milliseconds timeout{0};
};

/// What probes write to; read by the test thread.
class event_log {
public:
  void add(record r) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      records_.push_back(std::move(r));
    }
    cv_.notify_all();
  }

  std::vector<record> snapshot() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return records_;
  }

  /// Waits (bounded) until `pred(records)` holds; false on timeout. `pred`
  /// runs under the log's lock: it must not call other members.
  bool wait(std::function<bool(const std::vector<record>&)> pred,
            std::chrono::milliseconds limit = wait_limit) const {
    std::unique_lock<std::mutex> guard{mutex_};
    return cv_.wait_for(guard, limit, [&] { return pred(records_); });
  }

  /// Records of `who` of the given kind, in arrival order.
  std::vector<record> of(const std::string& who, const std::string& kind) const {
    std::vector<record> out;
    for (auto& r : snapshot())
      if (r.who == who && r.kind == kind)
        out.push_back(r);
    return out;
  }

  /// First packet text of every "send" record of `who`, in arrival order.
  std::vector<std::string> sent_texts(const std::string& who) const {
    std::vector<std::string> out;
    for (auto& r : of(who, "send"))
      out.push_back(r.items.empty() ? std::string{} : r.items.front());
    return out;
  }

private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::vector<record> records_;
};

/// How a probe answers an ack request (as a socket actor would).
enum class ack_mode {
  answer, // with probe_options::ack_answer
  hold,   // keeps the request open until (release_atom) or forever
};

struct probe_options {
  ack_mode ack = ack_mode::answer;
  sio::json ack_answer = sio::json::array();
  /// When set, (fetch_atom) is answered with it; otherwise with a snapshot
  /// whose id is the probe's name and whose ref is the probe.
  std::optional<sio::remote_socket> fetch;
  /// (fetch_atom) is never answered (it fails on the requester's timeout).
  bool hold_fetch = false;
};

struct probe_state {
  std::vector<caf::response_promise> held;       // ack requests
  std::vector<caf::response_promise> held_fetch; // never answered
  static inline const char* name = "sio.test.probe";
};

inline std::vector<std::string> texts_of(const std::vector<sio::engineio::packet_ptr>& packets) {
  std::vector<std::string> out;
  for (auto& p : packets)
    out.push_back(p->is_binary() ? std::string{"<binary>"} : std::string{p->data()});
  return out;
}

/// A recorder standing in for a session actor and/or a socket actor.
inline caf::behavior probe(caf::stateful_actor<probe_state>* self, std::string who,
                           std::shared_ptr<event_log> log, probe_options opts) {
  namespace eio = sio::engineio;
  self->set_default_handler(caf::drop);
  return {
    [=](ping_atom) { return true; },
    [=](eio::send_atom, const std::vector<eio::packet_ptr>& packets, bool is_volatile) {
      log->add(record{who, "send", texts_of(packets), is_volatile, 0});
    },
    [=](join_atom, const std::vector<std::string>& rooms) {
      log->add(record{who, "join", rooms, false, 0});
    },
    [=](leave_atom, const std::string& room) { log->add(record{who, "leave", {room}, false, 0}); },
    [=](disconnect_atom, bool close) { log->add(record{who, "disconnect", {}, close, 0}); },
    // The session writes the packets these carry: record them as a send too.
    [=](socket_connected_atom, const std::string& nsp, const std::vector<eio::packet_ptr>& packets) {
      log->add(record{who, "send", texts_of(packets), false, 0});
      log->add(record{who, "connected", {nsp}, false, 0});
    },
    [=](socket_gone_atom, const std::string& nsp, bool close,
        const std::vector<eio::packet_ptr>& packets) {
      log->add(record{who, "send", texts_of(packets), false, 0});
      log->add(record{who, "gone", {nsp}, close, 0});
    },
    [=](ack_request_atom, std::uint64_t id, const std::vector<eio::packet_ptr>& packets,
        std::chrono::milliseconds timeout) {
      log->add(record{who, "ack_request", texts_of(packets), false, id, timeout});
      auto rp = self->make_response_promise();
      if (opts.ack == ack_mode::answer)
        rp.deliver(opts.ack_answer);
      else
        self->state.held.push_back(rp);
    },
    [=](release_atom) {
      for (auto& rp : self->state.held)
        rp.deliver(opts.ack_answer);
      self->state.held.clear();
    },
    [=](fetch_atom) {
      log->add(record{who, "fetch", {}, false, 0});
      auto rp = self->make_response_promise();
      if (opts.hold_fetch) {
        self->state.held_fetch.push_back(rp);
      } else if (opts.fetch) {
        rp.deliver(*opts.fetch);
      } else {
        sio::remote_socket rs;
        rs.id = who;
        rs.ref = sio::socket_ref{caf::actor_cast<caf::actor>(self), who, "/"};
        rp.deliver(std::move(rs));
      }
    },
  };
}

/// One actor system per test; every actor spawned through it is stopped
/// before the system shuts down (which waits for all actors).
struct actor_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::shared_ptr<event_log> log = std::make_shared<event_log>();
  std::vector<caf::actor> owned;

  actor_fixture() = default;
  actor_fixture(const actor_fixture&) = delete;
  actor_fixture& operator=(const actor_fixture&) = delete;

  ~actor_fixture() {
    for (auto& a : owned)
      self->send_exit(a, caf::exit_reason::user_shutdown);
  }

  /// Keeps `a` to stop it at the end of the test.
  caf::actor own(caf::actor a) {
    owned.push_back(a);
    return a;
  }

  caf::actor spawn_probe(const std::string& who, probe_options opts = {}) {
    return own(sys.spawn(probe, who, log, std::move(opts)));
  }

  /// Request-response round trip: `a` handled everything sent to it before.
  /// Actors other than probes drop the ping, which answers it just as well.
  bool ping(const caf::actor& a) {
    bool ok = false;
    self->request(a, wait_limit, ping_atom::value)
      .receive([&](bool) { ok = true; },
               [&](caf::error& err) {
                 ok = err == caf::sec::unexpected_message;
                 if (!ok)
                   UNSCOPED_INFO("ping failed: " << sys.render(err));
               });
    return ok;
  }

  /// Polls (bounded) until exactly `n` actors run in the system (the
  /// scoped actor included): there is no message that tells when an actor
  /// we hold no handle of (a room actor) has stopped.
  bool wait_running(std::size_t n) {
    auto deadline = std::chrono::steady_clock::now() + wait_limit;
    while (sys.registry().running() != n) {
      if (std::chrono::steady_clock::now() > deadline) {
        UNSCOPED_INFO("running actors: " << sys.registry().running() << ", expected " << n);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  /// Stops `a` and waits (bounded) until it is gone.
  bool kill(const caf::actor& a) {
    self->monitor(a);
    self->send_exit(a, caf::exit_reason::user_shutdown);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; },
                  caf::after(wait_limit) >> [] {});
    return down;
  }
};

/// Waits (bounded) for a value handed over by a callback that runs in some
/// actor; the callback may be called at most once.
template <class T>
class handoff {
public:
  handoff() : promise_(std::make_shared<std::promise<T>>()), future_(promise_->get_future()) {}

  std::function<void(T)> callback() {
    auto p = promise_;
    auto calls = calls_;
    return [p, calls](T value) {
      if (calls->fetch_add(1) == 0)
        p->set_value(std::move(value));
    };
  }

  /// The value, or nothing after the time limit.
  std::optional<T> get(std::chrono::milliseconds limit = wait_limit) {
    if (future_.wait_for(limit) != std::future_status::ready)
      return std::nullopt;
    return future_.get();
  }

  int calls() const { return calls_->load(); }

private:
  std::shared_ptr<std::promise<T>> promise_;
  std::future<T> future_;
  std::shared_ptr<std::atomic<int>> calls_ = std::make_shared<std::atomic<int>>(0);
};

/// The text part of an EVENT packet as make_event encodes it on "/".
inline std::string event_text(const std::string& name) {
  return "2[\"" + name + "\"]";
}

/// Decodes a packet text recorded by a probe.
inline sio::socketio::packet decode_text(const std::string& text) {
  sio::socketio::decoder d;
  auto st = d.feed_text(text);
  INFO(text << " -> " << d.error());
  REQUIRE(st == sio::socketio::decoder::status::complete);
  return d.take();
}

inline sio::socketio::broadcast_target target(std::set<std::string> rooms = {},
                                             std::set<std::string> except = {}) {
  return sio::socketio::broadcast_target{std::move(rooms), std::move(except), false, false};
}

/// Probes that got EVENT `event` (first packet), once per copy. For use in
/// event_log::wait predicates, which must not call back into the log.
inline std::multiset<std::string> receivers_in(const std::vector<record>& recs,
                                               const std::string& event) {
  std::multiset<std::string> out;
  for (auto& r : recs)
    if (r.kind == "send" && !r.items.empty() && r.items.front() == event_text(event))
      out.insert(r.who);
  return out;
}

/// The ordering check: io.to("r").emit(aN); io.emit(bN) for N < 100 must reach
/// `member` (a member of r) as a0 b0 a1 b1 ...: one adapter orders both paths.
inline void check_room_then_all_order(const sio::broadcast_operator& io, event_log& log,
                                      const std::string& member) {
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    auto a = "a" + std::to_string(i);
    auto b = "b" + std::to_string(i);
    io.to("r").emit(a);
    io.emit(b);
    expected.push_back(event_text(a));
    expected.push_back(event_text(b));
  }
  REQUIRE(log.wait([&](auto& recs) { return receivers_in(recs, "b99").count(member) == 1; }));
  std::vector<std::string> got;
  for (auto& text : log.sent_texts(member))
    if (text.rfind("2[\"a", 0) == 0 || text.rfind("2[\"b", 0) == 0)
      got.push_back(text);
  CHECK(got == expected);
}

/// Fake sockets around an adapter (set `adapter` first): socket `x` has the
/// socket probe "sock:x" and the session probe "x".
struct adapter_harness : actor_fixture {
  adapter_actor adapter;
  std::map<std::string, caf::actor> sockets;
  std::map<std::string, caf::actor> sessions;
  std::set<std::string> connected;
  int settles = 0;

  void add(const std::string& sid, probe_options socket_opts = {}) {
    auto sock = spawn_probe("sock:" + sid, std::move(socket_opts));
    auto sess = spawn_probe(sid);
    sockets[sid] = sock;
    sessions[sid] = sess;
    connected.insert(sid);
    self->send(adapter, add_atom::value, sid, sock, sess);
  }

  void join(const std::string& sid, std::vector<std::string> rooms) {
    self->send(adapter, join_atom::value, sid, std::move(rooms));
  }

  void leave(const std::string& sid, const std::string& room) {
    self->send(adapter, leave_atom::value, sid, room);
  }

  void remove(const std::string& sid) {
    connected.erase(sid);
    self->send(adapter, remove_atom::value, sid);
  }

  void broadcast(const broadcast_target& t, const std::string& event, bool is_volatile = false) {
    auto msg = caf::make_message(sio::engineio::send_atom::value,
                                 sio::socketio::make_event(sio::wire_format::json, "/", event, json::array()), is_volatile);
    self->send(adapter, broadcast_atom::value, t, std::move(msg));
  }

  /// Makes every earlier broadcast observable: markers follow it down the
  /// same paths (the adapter's direct fan-out to every socket, and a
  /// broadcast to each room in `rooms`, which must have members, in case it
  /// goes through that room's actor), then every session is pinged. False if
  /// a marker did not arrive (e.g. the adapter is gone).
  bool settle(const std::vector<std::string>& rooms = {}) {
    auto tag = "settle" + std::to_string(++settles);
    for (auto& r : rooms)
      broadcast(target({r}), tag + ":" + r);
    broadcast(target(), tag);
    auto ok = log->wait([&](const std::vector<record>& recs) {
      auto seen = [&](const std::string& who, const std::string& text) {
        return std::any_of(recs.begin(), recs.end(), [&](const record& r) {
          return r.kind == "send" && (who.empty() || r.who == who) && !r.items.empty()
                 && r.items.front() == text;
        });
      };
      for (auto& r : rooms)
        if (!seen("", event_text(tag + ":" + r)))
          return false;
      for (auto& sid : connected)
        if (!seen(sid, event_text(tag)))
          return false;
      return true;
    });
    for (auto& [sid, sess] : sessions)
      ok = ping(sess) && ok;
    return ok;
  }

  /// Sessions that got `event`, once per copy.
  std::multiset<std::string> receivers(const std::string& event) const {
    return receivers_in(log->snapshot(), event);
  }

  /// The socket actors the adapter selects for `t` on this node, by name
  /// ("sock:x" for socket x; a session would show as "x", anything else as
  /// "?"; a failed request as "<...>"): the actors of the sockets that
  /// fetch_sockets with a local target gathers (probes answer with themselves;
  /// one that does not answer in time is missing).
  std::multiset<std::string> select(broadcast_target t) {
    std::multiset<std::string> out;
    t.local = true;
    self->request(adapter, wait_limit, fetch_sockets_atom::value, t, caf::timespan{wait_limit / 2})
      .receive(
        [&](const std::vector<sio::remote_socket>& found) {
          for (auto& rs : found) {
            auto& a = rs.ref.actor();
            std::string name = "?";
            for (auto& [sid, s] : sockets)
              if (s == a)
                name = "sock:" + sid;
            for (auto& [sid, s] : sessions)
              if (s == a)
                name = sid;
            out.insert(name);
          }
        },
        [&](caf::error& err) { out.insert("<select failed: " + sys.render(err) + ">"); });
    return out;
  }

  /// This node's rooms as the adapter lists them, with their sizes.
  std::map<std::string, std::size_t> rooms() {
    std::map<std::string, std::size_t> out;
    self->request(adapter, wait_limit, rooms_atom::value)
      .receive([&](const std::map<std::string, std::size_t>& xs) { out = xs; },
               [&](caf::error& err) { out["<rooms failed: " + sys.render(err) + ">"] = 0; });
    return out;
  }

  /// The adapter handled everything sent before, and each socket probe
  /// handled what the adapter sent it.
  bool sync_sockets() {
    rooms(); // a round trip: the adapter handled everything before it
    bool ok = true;
    for (auto& [sid, s] : sockets)
      ok = ping(s) && ok;
    return ok;
  }
};

/// Decodes a packet text; nothing if it does not decode completely.
inline std::optional<sio::socketio::packet> try_decode(const std::string& text) {
  sio::socketio::decoder d;
  if (d.feed_text(text) != sio::socketio::decoder::status::complete)
    return std::nullopt;
  return d.take();
}

/// The first packet of type `type` sent to `who` whose data starts with
/// `event` (for EVENT packets; any data for other types when `event` is
/// empty), decoded. For use in wait predicates.
inline std::optional<sio::socketio::packet>
find_packet(const std::vector<record>& recs, const std::string& who, packet_type type,
            const std::string& event = {}) {
  for (auto& r : recs) {
    if (r.who != who || r.kind != "send" || r.items.empty())
      continue;
    auto p = try_decode(r.items.front());
    if (!p || p->type != type)
      continue;
    if (!event.empty()
        && !(p->data && p->data->is_array() && !p->data->empty() && (*p->data)[0] == event))
      continue;
    return p;
  }
  return std::nullopt;
}

/// Spawns a real socket actor (from a short-lived parent actor, as the
/// session actor does); nothing after the time limit.
inline caf::actor spawn_socket_actor(caf::actor_system& sys, socket_config cfg) {
  auto result = std::make_shared<std::promise<caf::actor>>();
  auto future = result->get_future();
  sys.spawn(
    [result, cfg](caf::event_based_actor* parent, int) {
      result->set_value(spawn_socket(parent, cfg));
    },
    0);
  if (future.wait_for(wait_limit) != std::future_status::ready)
    return {};
  return future.get();
}

/// A real sio::server (no network) whose sockets are real socket actors on
/// recorder sessions: socket `x` has the session probe "x".
struct server_fixture : actor_fixture {
  sio::server io;
  std::shared_ptr<namespace_state> ns;
  std::map<std::string, caf::actor> sockets;
  std::map<std::string, caf::actor> sessions;

  explicit server_fixture(sio::server_options opts = {})
    : io(sys, std::move(opts)), ns(sio::socketio::handle_access::state(io.of("/"))) {
  }

  /// Connects socket `sid` to "/" and waits until it told its session; the
  /// handlers registered so far apply. Null if it did not connect.
  caf::actor connect(const std::string& sid, sio::json auth = sio::json::object()) {
    socket_config cfg;
    cfg.id = sid;
    cfg.ns = ns;
    cfg.session = spawn_probe(sid);
    sessions[sid] = cfg.session;
    auto hs = std::make_shared<sio::handshake>();
    hs->auth = std::move(auth);
    cfg.handshake = std::move(hs);
    auto socket = spawn_socket_actor(sys, std::move(cfg));
    if (!socket)
      return {};
    own(socket);
    sockets[sid] = socket;
    auto connected = log->wait([&](const std::vector<record>& recs) {
      return std::any_of(recs.begin(), recs.end(), [&](const record& r) {
        return r.who == sid && (r.kind == "connected" || r.kind == "gone");
      });
    });
    return connected && !log->of(sid, "connected").empty() ? socket : caf::actor{};
  }

  /// A packet from the client of socket `sid`.
  void from_client(const std::string& sid, packet p) {
    self->send(sockets.at(sid), client_packet_atom::value, std::move(p));
  }

  static packet make_packet(packet_type type, std::optional<std::uint64_t> id,
                            std::optional<sio::json> data) {
    packet p;
    p.type = type;
    p.nsp = "/";
    p.id = id;
    p.data = std::move(data);
    return p;
  }

  /// Waits for a packet to session `sid` (see find_packet).
  std::optional<packet> wait_packet(const std::string& sid, packet_type type,
                                    const std::string& event = {}) {
    std::optional<packet> found;
    log->wait([&](const std::vector<record>& recs) {
      found = find_packet(recs, sid, type, event);
      return found.has_value();
    });
    return found;
  }

  /// Decoded packets sent to session `sid` so far, after the session handled
  /// everything sent to it before.
  std::vector<packet> packets_to(const std::string& sid) {
    std::vector<packet> out;
    if (!ping(sessions.at(sid)))
      return out;
    for (auto& text : log->sent_texts(sid))
      if (auto p = try_decode(text))
        out.push_back(std::move(*p));
    return out;
  }

  /// Socket actors the adapter selects for `t` on this node (those that
  /// answer fetch_sockets with a local target), as socket ids ("?" if unknown).
  std::multiset<std::string> select(broadcast_target t) {
    std::multiset<std::string> out;
    t.local = true;
    self->request(ns->adapter, wait_limit, fetch_sockets_atom::value, t,
                  caf::timespan{wait_limit / 2})
      .receive(
        [&](const std::vector<sio::remote_socket>& found) {
          for (auto& rs : found) {
            auto& a = rs.ref.actor();
            std::string name = "?";
            for (auto& [sid, s] : sockets)
              if (s == a)
                name = sid;
            out.insert(name);
          }
        },
        [&](caf::error& err) { out.insert("<select failed: " + sys.render(err) + ">"); });
    return out;
  }
};

} // namespace sio_test
