// The Socket.IO server the integration tests drive (tests/integration/
// socketio.test.js, socket_api.test.js, python_client.test.js, tls.test.js). Clients steer it with
// events, so it uses nearly the whole public API and doubles as an example of it:
//
//   "/"        a connect middleware (auth), events for acks both ways, the
//              socket's own handlers (off, once, any, outgoing), volatile, rooms,
//              every broadcast operator, fetch_sockets and the bulk operations,
//              disconnects, and a record of every disconnect reason
//   "/admin"   a second namespace with its own middleware
//   /dyn-<n>   dynamic namespaces (a regex)
//   "/actor"   the second style: the socket's events go to a CAF actor of the
//              application as sio::event_message
//
// Every handler that acknowledges answers with exactly one argument, so on
// the client `await socket.emitWithAck(...)` gives that value.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "sio/sio.hpp"

namespace {

using sio::json;
using std::chrono::milliseconds;

using resume_atom = caf::atom_constant<caf::atom("resume")>;

// -- small helpers --------------------------------------------------------------

/// The i-th argument of an event, or null if the client sent fewer.
json arg(const sio::event& e, std::size_t i) {
  return i < e.args.size() ? e.args[i] : json{};
}

std::string string_arg(const sio::event& e, std::size_t i) {
  auto v = arg(e, i);
  return v.is_string() ? v.get<std::string>() : std::string{};
}

milliseconds ms_arg(const sio::event& e, std::size_t i, milliseconds fallback) {
  auto v = arg(e, i);
  return v.is_number() ? milliseconds{v.get<std::int64_t>()} : fallback;
}

/// Acknowledges with one argument. ack_handle takes the whole argument list,
/// so an array value must be wrapped, or the client would get its elements
/// as separate arguments.
void ack_one(const sio::event& e, json value) {
  e.ack(json::array({std::move(value)}));
}

/// A room argument: "a" or ["a", "b"].
std::vector<std::string> rooms_arg(const json& v) {
  if (v.is_string())
    return {v.get<std::string>()};
  std::vector<std::string> rooms;
  if (v.is_array())
    for (auto& r : v)
      if (r.is_string())
        rooms.push_back(r.get<std::string>());
  return rooms;
}

/// The sockets of `ns` in `room` ("a" or ["a", "b"]), or all of them (null).
sio::broadcast_operator select(const sio::namespace_handle& ns, const json& room) {
  auto op = ns.all();
  return room.is_null() ? op : op.to(rooms_arg(room));
}

/// Disconnect reasons by socket id, written by socket actors, read by any.
class disconnect_log {
public:
  void record(const std::string& socket_id, const std::string& reason) {
    std::lock_guard<std::mutex> guard{mutex_};
    reasons_[socket_id] = reason;
  }
  json reason_of(const std::string& socket_id) const {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = reasons_.find(socket_id);
    return i == reasons_.end() ? json{} : json(i->second);
  }

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> reasons_;
};

/// Records why `s` leaves (on_disconnect runs in the socket's actor).
void record_disconnect(const std::shared_ptr<disconnect_log>& log, sio::socket& s) {
  s.on_disconnect([log](sio::socket& s, const std::string& reason) { log->record(s.id(), reason); });
}

/// Calls `fn` after `delay`, from a short-lived helper actor spawned by `parent`.
/// (The data are spawn arguments, not captures: CAF 0.17 dereferences a null
/// argument tuple for a function actor spawned without arguments, which UBSan
/// rejects.)
void call_later(caf::event_based_actor* parent, milliseconds delay, std::function<void()> fn) {
  parent->spawn(
    [](caf::event_based_actor* self, milliseconds d, const std::function<void()>& f) -> caf::behavior {
      self->delayed_send(self, d, resume_atom::value);
      return {[self, f](resume_atom) {
        f();
        self->quit();
      }};
    },
    delay, std::move(fn));
}

// -- "/": the callback style ----------------------------------------------------

/// auth {token: "bad"} is refused; auth {delay: ms} is accepted after that
/// delay (next() called later, from another actor); auth.name goes to data().
void auth_middleware(sio::socket& s, std::function<void(std::optional<sio::connect_error>)> next) {
  const auto& auth = s.handshake().auth;
  if (auth.is_object() && auth.value("token", json{}) == "bad") {
    next(sio::connect_error{"not authorized", json{{"code", 401}}});
    return;
  }
  s.data() = json::object();
  if (auth.is_object() && auth.contains("name"))
    s.data()["name"] = auth["name"];
  if (auth.is_object() && auth.contains("delay") && auth["delay"].is_number()) {
    call_later(s.self(), milliseconds{auth["delay"].get<std::int64_t>()},
               [next] { next(std::nullopt); });
    return;
  }
  next(std::nullopt);
}

json whoami(sio::socket& s) {
  return json{{"id", s.id()},
              {"nsp", s.nsp()},
              {"auth", s.handshake().auth},
              {"query", s.handshake().query},
              {"secure", s.handshake().secure},
              {"data", s.data()},
              {"recovered", s.recovered()}};
}

void on_main_connection(sio::server& io, std::shared_ptr<disconnect_log> log, sio::socket& s) {
  record_disconnect(log, s);

  // -- acks and plain emits --
  s.on("echo", [](sio::socket&, sio::event& e) { e.ack(e.args); });
  s.on("whoami", [](sio::socket& s, sio::event& e) { ack_one(e, whoami(s)); });
  s.on("emit-back", [](sio::socket& s, sio::event& e) { s.emit_args("back", e.args); });
  // (n): n direct emits "burst" 0..n-1 at once (connection state recovery tests).
  s.on("emit-burst", [](sio::socket& s, sio::event& e) {
    auto n = arg(e, 0).is_number_unsigned() ? arg(e, 0).get<std::size_t>() : 0;
    for (std::size_t i = 0; i < std::min<std::size_t>(n, 100000); ++i)
      s.emit("burst", i);
    ack_one(e, n);
  });
  // (value): socket.data().note = value, after the middleware set data().
  s.on("set-note", [](sio::socket& s, sio::event& e) {
    s.data()["note"] = arg(e, 0);
    ack_one(e, true);
  });
  // [timeoutMs]: asks the client "question" and reports what came back.
  s.on("server-ack", [](sio::socket& s, sio::event& e) {
    auto reply = e.ack; // the handle outlives this call
    s.emit_with_ack("question", json::array({"what is the answer?"}),
                    ms_arg(e, 0, milliseconds{1000}), [reply](sio::ack_result r) {
                      reply(json::array({json{{"ok", r.ok()},
                                              {"error", r.ok() ? json{} : json(r.error)},
                                              {"answer", r.ok() ? r.args : json{}}}}));
                    });
  });

  // -- the socket's own handlers: off, once, any, outgoing --
  // [event, "on" | "once", tag]: a handler of `event` that emits "heard"
  // [event, tag, first arg]; acks its id.
  s.on("listen", [](sio::socket& s, sio::event& e) {
    auto event = string_arg(e, 0);
    auto heard = [tag = arg(e, 2)](sio::socket& s, sio::event& e) {
      s.emit("heard", e.name, tag, arg(e, 0));
    };
    ack_one(e, string_arg(e, 1) == "once" ? s.once(event, heard) : s.on(event, heard));
  });
  // [event, id or null]: off(event, id) or off(event).
  s.on("unlisten", [](sio::socket& s, sio::event& e) {
    if (arg(e, 1).is_number())
      s.off(string_arg(e, 0), arg(e, 1).get<sio::handler_id>());
    else
      s.off(string_arg(e, 0));
    ack_one(e, true);
  });
  // ["on" | "prepend", tag]: an on_any / prepend_any handler that, for events
  // named "probe", emits "any-heard" [tag]; acks its id.
  s.on("listen-any", [](sio::socket& s, sio::event& e) {
    auto tag = arg(e, 1);
    auto h = [tag](sio::socket& s, sio::event& e) {
      if (e.name == "probe")
        s.emit("any-heard", tag);
    };
    ack_one(e, string_arg(e, 0) == "prepend" ? s.prepend_any(h) : s.on_any(h));
  });
  // [id or null]: off_any(id) or off_any().
  s.on("unlisten-any", [](sio::socket& s, sio::event& e) {
    if (arg(e, 0).is_number())
      s.off_any(arg(e, 0).get<sio::handler_id>());
    else
      s.off_any();
    ack_one(e, true);
  });
  // []: an on_any_outgoing handler that logs [event, args] of each emit; acks its id.
  auto outgoing = std::make_shared<json>(json::array());
  s.on("listen-outgoing", [outgoing](sio::socket& s, sio::event& e) {
    ack_one(e, s.on_any_outgoing([outgoing](sio::socket&, const std::string& event,
                                            const json& args) {
      outgoing->push_back(json::array({event, args}));
    }));
  });
  s.on("outgoing-log", [outgoing](sio::socket&, sio::event& e) { ack_one(e, *outgoing); });
  // [id or null]: off_any_outgoing(id) or off_any_outgoing().
  s.on("unlisten-outgoing", [](sio::socket& s, sio::event& e) {
    if (arg(e, 0).is_number())
      s.off_any_outgoing(arg(e, 0).get<sio::handler_id>());
    else
      s.off_any_outgoing();
    ack_one(e, true);
  });
  // [n]: n volatile emits "vol" 0..n-1 to this socket, then one plain "vol-end"
  // (the flag lasts for one emit only); compress(false) is accepted.
  s.on("volatile-me", [](sio::socket& s, sio::event& e) {
    auto n = arg(e, 0).is_number_unsigned() ? arg(e, 0).get<std::size_t>() : 0;
    for (std::size_t i = 0; i < std::min<std::size_t>(n, 100000); ++i)
      s.volatile_().compress(false).emit("vol", i);
    s.emit("vol-end", n);
    ack_one(e, n);
  });
  // [socket id, timeoutMs]: asks that socket "question" through the handle
  // fetch_sockets gives (whatever node it is on); acks {ok, error, answer}.
  s.on("ref-ack", [&io](sio::socket&, sio::event& e) {
    auto reply = e.ack;
    auto id = string_arg(e, 0);
    auto timeout = ms_arg(e, 1, milliseconds{1000});
    io.of("/").fetch_sockets([reply, id, timeout](std::vector<sio::remote_socket> sockets) {
      for (auto& rs : sockets)
        if (rs.id == id) {
          rs.ref.emit_with_ack("question", json::array({"from a ref"}), timeout,
                               [reply](sio::ack_result r) {
                                 reply(json::array({json{{"ok", r.ok()},
                                                         {"error", r.ok() ? json{} : json(r.error)},
                                                         {"answer", r.ok() ? r.args : json{}}}}));
                               });
          return;
        }
      reply(json::array({json{{"ok", false}, {"error", "no such socket"}}}));
    });
  });

  // -- rooms --
  s.on("join", [](sio::socket& s, sio::event& e) {
    s.join(rooms_arg(arg(e, 0)));
    ack_one(e, s.rooms());
  });
  s.on("leave", [](sio::socket& s, sio::event& e) {
    for (auto& room : rooms_arg(arg(e, 0)))
      s.leave(room);
    ack_one(e, s.rooms());
  });
  s.on("rooms", [](sio::socket& s, sio::event& e) { ack_one(e, s.rooms()); });

  // -- broadcasts --
  // [room(s), event, payload]: everyone in the room(s) but the sender.
  s.on("to-room", [](sio::socket& s, sio::event& e) {
    auto room = arg(e, 0);
    auto op = room.is_string() ? s.to(room.get<std::string>()) : s.broadcast().to(rooms_arg(room));
    op.emit(string_arg(e, 1), arg(e, 2));
    e.ack();
  });
  // [room(s), event, payload]: everyone in the room(s), the sender included.
  s.on("in-room-all", [&io](sio::socket&, sio::event& e) {
    auto room = arg(e, 0);
    auto op = room.is_string() ? io.of("/").in(room.get<std::string>()) : select(io.of("/"), room);
    op.emit(string_arg(e, 1), arg(e, 2));
    e.ack();
  });
  // [room or null, exceptRoom(s), payload] -> "excepted": the room (or the
  // namespace) without the except room(s), the sender included.
  s.on("except", [&io](sio::socket&, sio::event& e) {
    select(io.of("/"), arg(e, 0)).except(rooms_arg(arg(e, 1))).emit("excepted", arg(e, 2));
    e.ack();
  });
  // [exceptRoom, payload] -> "socket-excepted": everyone but the sender and the room.
  s.on("socket-except", [](sio::socket& s, sio::event& e) {
    s.except(string_arg(e, 0)).emit("socket-excepted", arg(e, 1));
    e.ack();
  });
  // [payload] -> "broadcast": everyone in the namespace but the sender.
  s.on("broadcast", [](sio::socket& s, sio::event& e) {
    s.broadcast().emit("broadcast", arg(e, 0));
    e.ack();
  });
  // [payload] -> "volatile": everyone whose transport can take it right now.
  s.on("volatile", [&io](sio::socket&, sio::event& e) {
    io.of("/").volatile_().emit("volatile", arg(e, 0));
    e.ack();
  });
  // [room, timeoutMs]: asks everyone in the room "question", acks {error, responses}.
  s.on("broadcast-ack", [&io](sio::socket&, sio::event& e) {
    auto reply = e.ack;
    io.of("/")
      .to(string_arg(e, 0))
      .timeout(ms_arg(e, 1, milliseconds{1000}))
      .emit_with_ack("question", json::array({"all of you?"}),
                     [reply](sio::broadcast_ack_result r) {
                       reply(json::array({json{{"error", r.ok() ? json{} : json(r.error)},
                                               {"responses", r.responses}}}));
                     });
  });

  // -- the namespace's sockets in bulk --
  // [room or null]: acks [{id, rooms, data}] sorted by id.
  s.on("fetch", [&io](sio::socket&, sio::event& e) {
    auto reply = e.ack;
    select(io.of("/"), arg(e, 0)).fetch_sockets([reply](std::vector<sio::remote_socket> sockets) {
      std::sort(sockets.begin(), sockets.end(),
                [](const auto& a, const auto& b) { return a.id < b.id; });
      json list = json::array();
      for (auto& rs : sockets)
        list.push_back(json{{"id", rs.id}, {"rooms", rs.rooms}, {"data", rs.data}});
      reply(json::array({list}));
    });
  });
  // [socket id, event, payload]: emits through the handle fetch_sockets gives,
  // whatever node that socket lives on.
  s.on("emit-to", [&io](sio::socket&, sio::event& e) {
    auto reply = e.ack;
    auto id = string_arg(e, 0);
    auto event = string_arg(e, 1);
    auto payload = arg(e, 2);
    io.of("/").fetch_sockets([reply, id, event, payload](std::vector<sio::remote_socket> sockets) {
      for (auto& rs : sockets)
        if (rs.id == id) {
          rs.ref.emit(event, payload);
          reply(json::array({true}));
          return;
        }
      reply(json::array({false}));
    });
  });
  // [payload]: to the other nodes only, as Node's serverSideEmit.
  s.on("server-emit", [&io](sio::socket&, sio::event& e) {
    io.of("/").server_side_emit("relay", json::array({arg(e, 0)}));
    e.ack();
  });
  // [timeoutMs] -> {error, responses}: one answer per other node.
  s.on("server-emit-ack", [&io](sio::socket&, sio::event& e) {
    auto reply = e.ack;
    auto timeout = std::chrono::milliseconds{arg(e, 0).is_number() ? arg(e, 0).get<long>() : 2000};
    io.of("/").server_side_emit_with_ack("whoami-node", json::array(), timeout,
                                         [reply](sio::broadcast_ack_result r) {
                                           reply(json::array({json{{"error", r.error},
                                                                   {"responses", r.responses}}}));
                                         });
  });
  // [room or null, newRoom(s)]
  s.on("sockets-join", [&io](sio::socket&, sio::event& e) {
    select(io.of("/"), arg(e, 0)).sockets_join(rooms_arg(arg(e, 1)));
    e.ack();
  });
  // [room or null, room to leave]
  s.on("sockets-leave", [&io](sio::socket&, sio::event& e) {
    select(io.of("/"), arg(e, 0)).sockets_leave(string_arg(e, 1));
    e.ack();
  });
  // [room or null, close]
  s.on("disconnect-sockets", [&io](sio::socket&, sio::event& e) {
    select(io.of("/"), arg(e, 0)).disconnect_sockets(arg(e, 1) == true);
    e.ack();
  });
  s.on("count", [&io](sio::socket&, sio::event& e) { ack_one(e, io.of("/").local_socket_count()); });

  // -- disconnects --
  // [close]: the server ends this socket ("server namespace disconnect").
  s.on("disconnect-me", [](sio::socket& s, sio::event& e) { s.disconnect(arg(e, 0) == true); });
  // [socketId]: why that socket left (null if it did not, or not yet).
  s.on("last-disconnect-reason", [log](sio::socket&, sio::event& e) {
    ack_one(e, log->reason_of(string_arg(e, 0)));
  });
}

// -- "/actor": the actor style ----------------------------------------------------

struct actor_namespace_state {
  std::string nsp;
  std::size_t pings = 0;
  static inline const char* name = "actor-namespace";
};

/// Handles the events of every socket of namespace `nsp`: one actor, so its
/// state (the ping counter) needs no lock.
caf::behavior actor_namespace(caf::stateful_actor<actor_namespace_state>* self, std::string nsp) {
  self->state.nsp = std::move(nsp);
  return {
    [self](const sio::event_message& m) {
      if (m.name == "ping") {
        ++self->state.pings;
        m.ack(json::array({json{{"pong", self->state.pings}, {"args", m.args}}}));
      } else if (m.name == "emit-back") {
        m.socket.emit_args("back", m.args);
      } else if (m.name == "whoami") {
        m.ack(json::array({json{{"id", m.socket.id()}, {"nsp", m.socket.nsp()}}}));
      } else if (m.name == "bye") {
        m.socket.disconnect();
      } else {
        m.ack(json::array({json{{"error", "unknown event " + m.name + " in " + self->state.nsp}}}));
      }
    },
  };
}

// -- the app ------------------------------------------------------------------------

void start(sio::app& a) {
  auto& io = a.io();
  auto& http = a.http();
  auto log = std::make_shared<disconnect_log>();

  // The handlers reference `io` (not a namespace_handle, which would keep its
  // own namespace alive in a cycle); `io` outlives the listener.
  io.of("/").use(auth_middleware);
  io.of("/").on_connection([&io, &http, log](sio::socket& s) {
    on_main_connection(io, log, s);
    // Live connections per I/O shard (--io-threads), for the acceptor tests.
    s.on("shard-loads", [&http](sio::socket&, sio::event& e) { ack_one(e, http.shard_loads()); });
    // {count, members}: server_count() and cluster_members() (non-blocking).
    s.on("server-count", [&io](sio::socket&, sio::event& e) {
      ack_one(e, json{{"count", io.server_count()}, {"members", io.cluster_members()}});
    });
  });
  // From the other nodes of a cluster: "relay" is shown to this node's clients;
  // "whoami-node" is answered with this node's cluster port.
  io.of("/").on_server_side("relay", [&io](json args, sio::ack_handle) {
    io.of("/").local().emit_args("relayed", std::move(args));
  });
  io.of("/").on_server_side("whoami-node", [&io](json, sio::ack_handle ack) {
    ack(json::array({io.cluster_port()}));
  });

  io.of("/admin")
    .use([](sio::socket& s, auto next) {
      const auto& auth = s.handshake().auth;
      if (auth.is_object() && auth.value("token", json{}) == "admin-secret")
        next(std::nullopt);
      else
        next(sio::connect_error{"admins only", nullptr});
    })
    .on_connection([log](sio::socket& s) {
      record_disconnect(log, s);
      s.emit("welcome", s.nsp());
      s.on("echo", [](sio::socket&, sio::event& e) {
        auto args = e.args;
        args.insert(args.begin(), json("admin"));
        ack_one(e, args);
      });
    });

  io.of(std::regex{R"(^/dyn-\d+$)"}).on_connection([log](sio::socket& s) {
    record_disconnect(log, s);
    s.emit("dyn", s.nsp());
    s.on("echo", [](sio::socket& s, sio::event& e) { ack_one(e, json{{"nsp", s.nsp()}, {"args", e.args}}); });
  });

  auto handler = a.system().spawn(actor_namespace, "/actor");
  io.of("/actor").on_connection([handler, log](sio::socket& s) {
    record_disconnect(log, s);
    s.forward_events_to(handler);
  });

  a.on_stop([handler] { caf::anon_send_exit(handler, caf::exit_reason::user_shutdown); });
}

} // namespace

/// The runner's options, and a short TLS handshake deadline for tls.test.js.
struct test_config : sio::app_config {
  test_config() {
    opt_group{custom_options_, "global"}.add(tls_handshake_timeout, "tls-handshake-timeout",
                                             "seconds a client has to finish its TLS handshake");
  }
  std::int64_t tls_handshake_timeout = 10;
};

int main(int argc, char** argv) {
  test_config cfg;
  sio::app_setup setup{start};
  setup.options = [&cfg](sio::listen_options& l, sio::server_options&) {
    l.tls_handshake_timeout = std::chrono::seconds{cfg.tls_handshake_timeout};
  };
  return sio::run_app(argc, argv, cfg, "sio-test-server", std::move(setup));
}
