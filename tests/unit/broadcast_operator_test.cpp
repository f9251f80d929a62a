// sio::broadcast_operator: the value semantics of its modifiers, and what
// emit / emit_with_ack / fetch_sockets / the bulk operations do through a
// namespace's adapter, with recorder actors as sockets and sessions.
#include "sio/broadcast_operator.hpp"
#include "socketio/handle_access.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "actor_test_support.hpp"
#include "socketio/namespace_state.hpp"
#include "sio/server.hpp"

using namespace sio::socketio;
using namespace sio_test;
using namespace std::chrono_literals;
using sio::broadcast_ack_result;
using sio::broadcast_operator;
using sio::json;
using sio::remote_socket;

namespace {

using rooms = std::set<std::string>;
using names = std::multiset<std::string>;

sio::server_options test_options() {
  sio::server_options o;
  o.request_timeout = 1234ms; // distinguishable from the 5 s default
  return o;
}

/// A namespace "/" (with its real adapter) and fake sockets in it.
struct ns_fixture : adapter_harness {
  std::shared_ptr<namespace_state> ns;

  ns_fixture() {
    ns = namespace_state::create(sys, "/",
                                 std::make_shared<const sio::server_options>(test_options()));
    adapter = ns->adapter;
  }

  ~ns_fixture() {
    ns.reset(); // stops the adapter
  }

  broadcast_operator all() const { return sio::socketio::handle_access::make_operator(ns, nullptr); }

  /// A fake socket answering acks with ["<sid>", 2] and fetches with a snapshot.
  void add_socket(const std::string& sid, ack_mode mode = ack_mode::answer,
                  bool answers_fetch = true) {
    probe_options o;
    o.ack = mode;
    o.ack_answer = json::array({sid, 2});
    o.hold_fetch = !answers_fetch;
    if (answers_fetch) {
      remote_socket rs;
      rs.id = sid;
      rs.rooms = {sid};
      rs.data = json{{"name", sid}};
      o.fetch = rs;
    }
    add(sid, std::move(o));
  }

  /// The ack requests socket `sid` got.
  std::vector<record> ack_requests(const std::string& sid) const {
    return log->of("sock:" + sid, "ack_request");
  }
};

/// Each response is the first ack argument of a socket (its id, see add_socket).
names responders(const broadcast_ack_result& r) {
  names out;
  for (auto& answer : r.responses)
    out.insert(answer.is_string() ? answer.get<std::string>() : answer.dump());
  return out;
}

names ids_of(const std::vector<remote_socket>& sockets) {
  names out;
  for (auto& s : sockets)
    out.insert(s.id);
  return out;
}

} // namespace

// -- modifiers ----------------------------------------------------------------

TEST_CASE("broadcast_operator: modifiers return modified copies", "[broadcast_operator]") {
  ns_fixture f;
  const auto base = f.all();
  CHECK(base.rooms().empty());
  CHECK(base.excluded().empty());
  CHECK_FALSE(base.is_volatile());
  CHECK_FALSE(base.is_local());
  CHECK(base.ack_timeout() == 1234ms); // server_options::request_timeout

  auto a = base.to("r1");
  auto b = a.in("r2").to(std::vector<std::string>{"r3", "r1"});
  auto c = b.except("x").except(std::vector<std::string>{"y", "x"});
  auto v = c.volatile_();
  auto t = v.timeout(250ms);
  auto l = t.local().compress(false);

  CHECK(a.rooms() == rooms{"r1"});
  CHECK(b.rooms() == rooms{"r1", "r2", "r3"});
  CHECK(c.rooms() == rooms{"r1", "r2", "r3"});
  CHECK(c.excluded() == rooms{"x", "y"});
  CHECK_FALSE(c.is_volatile());
  CHECK(v.is_volatile());
  CHECK(v.ack_timeout() == 1234ms);
  CHECK(t.ack_timeout() == 250ms);
  CHECK_FALSE(t.is_local());
  CHECK(l.is_local());
  // Everything else carries over.
  CHECK(l.rooms() == rooms{"r1", "r2", "r3"});
  CHECK(l.excluded() == rooms{"x", "y"});
  CHECK(l.is_volatile());
  CHECK(l.ack_timeout() == 250ms);

  // The originals are untouched.
  CHECK(base.rooms().empty());
  CHECK(base.excluded().empty());
  CHECK_FALSE(base.is_volatile());
  CHECK(base.ack_timeout() == 1234ms);
  CHECK(a.rooms() == rooms{"r1"});
  CHECK(a.excluded().empty());
  CHECK(b.excluded().empty());
  CHECK_FALSE(t.is_local());
}

TEST_CASE("broadcast_operator: a socket's operator leaves the socket out",
          "[broadcast_operator]") {
  ns_fixture f;
  const broadcast_operator own = sio::socketio::handle_access::make_operator(f.ns, nullptr, {"me"});
  CHECK(own.excluded() == rooms{"me"});
  auto more = own.except("other");
  CHECK(more.excluded() == rooms{"me", "other"});
  CHECK(own.excluded() == rooms{"me"});

  // namespace_handle builds the same operators.
  auto h = sio::socketio::handle_access::make_namespace_handle(f.ns);
  CHECK(h.to("r").rooms() == rooms{"r"});
  CHECK(h.in("r").rooms() == rooms{"r"});
  CHECK(h.except("r").excluded() == rooms{"r"});
  CHECK(h.volatile_().is_volatile());
  CHECK(h.local().is_local());
  CHECK(h.timeout(7ms).ack_timeout() == 7ms);
  CHECK(h.all().rooms().empty());
}

// -- emit ---------------------------------------------------------------------

TEST_CASE("broadcast_operator: emit reaches the selected sessions", "[broadcast_operator]") {
  ns_fixture f;
  for (auto sid : {"a", "b", "c", "d"})
    f.add_socket(sid);
  f.join("a", {"r"});
  f.join("b", {"r", "s"});
  f.join("c", {"s"});
  const auto base = f.all();

  SECTION("one room, except a socket, with arguments") {
    base.to("r").except("b").emit("news", 1, "two");
    auto text = std::string{"2[\"news\",1,\"two\"]"};
    REQUIRE(f.log->wait([&](auto& recs) {
      return std::any_of(recs.begin(), recs.end(),
                         [&](const record& r) { return r.who == "a" && r.items == std::vector{text}; });
    }));
    REQUIRE(f.settle({"r", "s"}));
    CHECK(f.log->sent_texts("a").front() == text);
    for (auto sid : {"b", "c", "d"}) {
      auto sent = f.log->sent_texts(sid);
      CHECK(std::count(sent.begin(), sent.end(), text) == 0);
    }
  }
  SECTION("several rooms, deduplicated") {
    base.to("r").to("s").emit("multi");
    REQUIRE(f.settle({"r", "s"}));
    CHECK(f.receivers("multi") == names{"a", "b", "c"});
  }
  SECTION("volatile is passed to the sessions") {
    base.volatile_().emit("v");
    base.emit("nv");
    REQUIRE(f.settle({"r", "s"}));
    CHECK(f.receivers("v") == names{"a", "b", "c", "d"});
    for (auto sid : {"a", "b", "c", "d"}) {
      auto sends = f.log->of(sid, "send");
      REQUIRE(sends.size() >= 2);
      CHECK(sends[0].items == std::vector<std::string>{event_text("v")});
      CHECK(sends[0].flag);
      CHECK(sends[1].items == std::vector<std::string>{event_text("nv")});
      CHECK_FALSE(sends[1].flag);
    }
  }
  SECTION("the original operator still targets everyone") {
    auto narrowed = base.to("s");
    narrowed.emit("narrow");
    base.emit("wide");
    REQUIRE(f.settle({"r", "s"}));
    CHECK(f.receivers("narrow") == names{"b", "c"});
    CHECK(f.receivers("wide") == names{"a", "b", "c", "d"});
  }
}

// Socket.IO's guarantee: a connection gets the server's packets in the order
// they were sent, whatever each emit's target. Both emits pass the adapter,
// which fans out every broadcast of the namespace itself.
TEST_CASE("broadcast_operator: io.to(r).emit(a); io.emit(b) arrive a, then b, at a member of r",
          "[broadcast_operator][order]") {
  ns_fixture f;
  f.add_socket("m");
  f.add_socket("other");
  f.join("m", {"r"});
  REQUIRE(f.settle({"r"}));
  check_room_then_all_order(f.all(), *f.log, "m");
}

// -- emit_with_ack ------------------------------------------------------------

TEST_CASE("broadcast_operator: emit_with_ack gathers every answer", "[broadcast_operator]") {
  ns_fixture f;
  for (auto sid : {"a", "b", "c"})
    f.add_socket(sid);
  f.join("a", {"r"});
  f.join("b", {"r"});

  SECTION("outside any actor") {
    handoff<broadcast_ack_result> h;
    f.all().emit_with_ack("q", json::array({1}), h.callback());
    auto result = h.get();
    REQUIRE(result);
    INFO("error: " << result->error);
    CHECK(result->ok());
    CHECK(result->error.empty());
    CHECK(responders(*result) == names{"a", "b", "c"});
  }
  SECTION("from inside an actor") {
    handoff<broadcast_ack_result> h;
    auto cb = h.callback();
    auto ns = f.ns;
    f.sys.spawn(
      [ns, cb](caf::event_based_actor* self, int) {
        sio::socketio::handle_access::make_operator(ns, self).emit_with_ack("q", json::array({1}), cb);
      },
      0);
    auto result = h.get();
    REQUIRE(result);
    CHECK(result->ok());
    CHECK(responders(*result) == names{"a", "b", "c"});
  }
  // Every socket was asked once, with the same ack id, for the same packet.
  std::set<std::uint64_t> ids;
  for (auto sid : {"a", "b", "c"}) {
    auto reqs = f.ack_requests(sid);
    REQUIRE(reqs.size() == 1);
    ids.insert(reqs[0].id);
    // The socket is told how long the requester waits (at most the timeout).
    CHECK(reqs[0].timeout > 0ms);
    CHECK(reqs[0].timeout <= 1234ms);
    auto p = decode_text(reqs[0].items.at(0));
    CHECK(p.type == packet_type::event);
    REQUIRE(p.id);
    CHECK(*p.id == reqs[0].id);
    CHECK(p.data == json::array({"q", 1}));
  }
  CHECK(ids.size() == 1);
}

TEST_CASE("broadcast_operator: emit_with_ack to a room asks its members only",
          "[broadcast_operator]") {
  ns_fixture f;
  for (auto sid : {"a", "b", "c"})
    f.add_socket(sid);
  f.join("a", {"r"});
  f.join("b", {"r"});
  handoff<broadcast_ack_result> h;
  f.all().to("r").except("b").emit_with_ack("q", json::array(), h.callback());
  auto result = h.get();
  REQUIRE(result);
  CHECK(result->ok());
  CHECK(responders(*result) == names{"a"});
  REQUIRE(f.sync_sockets());
  CHECK(f.ack_requests("a").size() == 1);
  CHECK(f.ack_requests("b").empty());
  CHECK(f.ack_requests("c").empty());
}

TEST_CASE("broadcast_operator: emit_with_ack ids are unique per namespace",
          "[broadcast_operator]") {
  ns_fixture f;
  f.add_socket("a");
  handoff<broadcast_ack_result> h1;
  handoff<broadcast_ack_result> h2;
  f.all().emit_with_ack("one", json::array(), h1.callback());
  f.all().emit_with_ack("two", json::array(), h2.callback());
  REQUIRE(h1.get());
  REQUIRE(h2.get());
  auto reqs = f.ack_requests("a");
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].id != reqs[1].id);
}

TEST_CASE("broadcast_operator: emit_with_ack without recipients answers at once",
          "[broadcast_operator]") {
  ns_fixture f;
  f.add_socket("a");
  handoff<broadcast_ack_result> h;
  f.all().to("nobody").emit_with_ack("q", json::array(), h.callback());
  auto result = h.get();
  REQUIRE(result);
  CHECK(result->ok());
  CHECK(result->responses.empty());
  REQUIRE(f.sync_sockets());
  CHECK(f.ack_requests("a").empty());
}

TEST_CASE("broadcast_operator: emit_with_ack times out with the answers that arrived",
          "[broadcast_operator]") {
  ns_fixture f;
  f.add_socket("a");
  f.add_socket("b");
  f.add_socket("silent", ack_mode::hold);
  handoff<broadcast_ack_result> h;
  auto start = std::chrono::steady_clock::now();
  f.all().timeout(200ms).emit_with_ack("q", json::array(), h.callback());
  auto result = h.get();
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(result);
  CHECK_FALSE(result->ok());
  CHECK(result->error == "operation has timed out");
  CHECK(responders(*result) == names{"a", "b"});
  // Not before the timeout (less a little: the time left is passed on in
  // whole milliseconds).
  INFO("elapsed ms: " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
  CHECK(elapsed >= 190ms);
  auto reqs = f.ack_requests("silent");
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].timeout > 0ms);
  CHECK(reqs[0].timeout <= 200ms);
  // A late answer changes nothing: the callback ran once.
  f.self->send(f.sockets["silent"], release_atom::value);
  REQUIRE(f.ping(f.sockets["silent"]));
  CHECK(h.calls() == 1);
}

TEST_CASE("broadcast_operator: a socket that is gone counts as no answer, not a timeout",
          "[broadcast_operator]") {
  ns_fixture f;
  f.add_socket("a");
  f.add_socket("b");
  f.add_socket("gone");
  REQUIRE(f.sync_sockets());
  // Still registered in the adapter (a fake socket does not say goodbye).
  REQUIRE(f.kill(f.sockets["gone"]));
  CHECK(f.rooms() == std::map<std::string, std::size_t>{{"a", 1}, {"b", 1}, {"gone", 1}});
  handoff<broadcast_ack_result> h;
  f.all().timeout(std::chrono::seconds(10)).emit_with_ack("q", json::array(), h.callback());
  auto result = h.get(); // well before the 10 s timeout
  REQUIRE(result);
  CHECK(result->ok());
  CHECK(responders(*result) == names{"a", "b"});
}

// -- fetch_sockets ------------------------------------------------------------

TEST_CASE("broadcast_operator: fetch_sockets gathers the matching sockets",
          "[broadcast_operator]") {
  ns_fixture f;
  for (auto sid : {"a", "b", "c"})
    f.add_socket(sid);
  f.join("a", {"r"});
  f.join("c", {"r"});

  SECTION("everyone") {
    handoff<std::vector<remote_socket>> h;
    f.all().fetch_sockets(h.callback());
    auto result = h.get();
    REQUIRE(result);
    CHECK(ids_of(*result) == names{"a", "b", "c"});
    for (auto& s : *result) {
      CHECK(s.rooms == rooms{s.id});
      CHECK(s.data == json{{"name", s.id}});
    }
  }
  SECTION("a room, except a socket") {
    handoff<std::vector<remote_socket>> h;
    f.all().in("r").except("c").fetch_sockets(h.callback());
    auto result = h.get();
    REQUIRE(result);
    CHECK(ids_of(*result) == names{"a"});
    REQUIRE(f.sync_sockets());
    CHECK(f.log->of("sock:b", "fetch").empty());
    CHECK(f.log->of("sock:c", "fetch").empty());
  }
  SECTION("nobody") {
    handoff<std::vector<remote_socket>> h;
    f.all().in("nobody").fetch_sockets(h.callback());
    auto result = h.get();
    REQUIRE(result);
    CHECK(result->empty());
  }
  SECTION("through the namespace handle") {
    handoff<std::vector<remote_socket>> h;
    sio::socketio::handle_access::make_namespace_handle(f.ns).fetch_sockets(h.callback());
    auto result = h.get();
    REQUIRE(result);
    CHECK(ids_of(*result) == names{"a", "b", "c"});
  }
}

TEST_CASE("broadcast_operator: fetch_sockets skips sockets that do not answer in time",
          "[broadcast_operator]") {
  ns_fixture f;
  f.add_socket("a");
  f.add_socket("mute", ack_mode::answer, false);
  f.add_socket("gone");
  REQUIRE(f.sync_sockets());
  REQUIRE(f.kill(f.sockets["gone"]));
  handoff<std::vector<remote_socket>> h;
  auto start = std::chrono::steady_clock::now();
  f.all().timeout(200ms).fetch_sockets(h.callback());
  auto result = h.get();
  REQUIRE(result);
  CHECK(ids_of(*result) == names{"a"});
  CHECK(std::chrono::steady_clock::now() - start >= 190ms);
  CHECK(f.log->of("sock:mute", "fetch").size() == 1);
}

// -- bulk operations ----------------------------------------------------------

TEST_CASE("broadcast_operator: sockets_join, sockets_leave, disconnect_sockets",
          "[broadcast_operator]") {
  ns_fixture f;
  for (auto sid : {"a", "b", "c"})
    f.add_socket(sid);
  f.join("a", {"r"});
  f.join("b", {"r"});
  const auto base = f.all();

  SECTION("sockets_join") {
    base.in("r").sockets_join("x");
    base.except("r").sockets_join(std::vector<std::string>{"y", "z"});
    REQUIRE(f.sync_sockets());
    for (auto sid : {"a", "b"}) {
      auto joins = f.log->of(std::string{"sock:"} + sid, "join");
      REQUIRE(joins.size() == 1);
      CHECK(joins[0].items == std::vector<std::string>{"x"});
    }
    auto joins = f.log->of("sock:c", "join");
    REQUIRE(joins.size() == 1);
    CHECK(joins[0].items == std::vector<std::string>{"y", "z"});
  }
  SECTION("sockets_leave") {
    base.in("r").except("a").sockets_leave("r");
    REQUIRE(f.sync_sockets());
    auto leaves = f.log->of("sock:b", "leave");
    REQUIRE(leaves.size() == 1);
    CHECK(leaves[0].items == std::vector<std::string>{"r"});
    CHECK(f.log->of("sock:a", "leave").empty());
    CHECK(f.log->of("sock:c", "leave").empty());
  }
  SECTION("disconnect_sockets") {
    base.in("r").disconnect_sockets(true);
    base.except("r").disconnect_sockets();
    REQUIRE(f.sync_sockets());
    for (auto sid : {"a", "b"}) {
      auto d = f.log->of(std::string{"sock:"} + sid, "disconnect");
      REQUIRE(d.size() == 1);
      CHECK(d[0].flag);
    }
    auto d = f.log->of("sock:c", "disconnect");
    REQUIRE(d.size() == 1);
    CHECK_FALSE(d[0].flag);
  }
}
