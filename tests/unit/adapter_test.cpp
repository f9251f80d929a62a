// The local adapter of one namespace (the typed adapter protocol of
// socketio/adapter.hpp on a single node): membership, broadcast fan-out,
// which sockets a target selects, the bulk socket operations, rooms, and the
// server-side operations a single node answers itself.
// Sessions and sockets are recorder actors; nothing touches the network.
#include "socketio/local_adapter.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "actor_test_support.hpp"

using namespace sio::socketio;
using namespace sio_test;
using sio::json;

namespace {

struct adapter_fixture : adapter_harness {
  std::shared_ptr<namespace_state> ns =
    namespace_state::create(sys, "/", std::make_shared<const sio::server_options>());
  adapter_fixture() { adapter = ns->adapter; }
  ~adapter_fixture() { ns.reset(); } // stops the adapter
};

using names = std::multiset<std::string>;

} // namespace

TEST_CASE("adapter: a broadcast to the namespace reaches every socket once", "[adapter]") {
  adapter_fixture f;
  for (auto sid : {"a", "b", "c"})
    f.add(sid);
  f.join("a", {"r1", "r2"});
  f.broadcast(target(), "hello");
  f.broadcast(target(), "flash", true);
  REQUIRE(f.settle({"r1"}));
  CHECK(f.receivers("hello") == names{"a", "b", "c"});
  CHECK(f.receivers("flash") == names{"a", "b", "c"});
  // The message is handed over unchanged: the volatile flag is the sender's.
  for (auto sid : {"a", "b", "c"}) {
    auto sends = f.log->of(sid, "send");
    REQUIRE(sends.size() >= 2);
    CHECK(sends[0].items == std::vector<std::string>{event_text("hello")});
    CHECK_FALSE(sends[0].flag);
    CHECK(sends[1].items == std::vector<std::string>{event_text("flash")});
    CHECK(sends[1].flag);
  }
  // Nothing reached the socket actors: broadcasts go to sessions.
  for (auto sid : {"a", "b", "c"})
    CHECK(f.log->of(std::string{"sock:"} + sid, "send").empty());
}

TEST_CASE("adapter: a broadcast to one room reaches its members only", "[adapter]") {
  adapter_fixture f;
  for (auto sid : {"a", "b", "c", "d"})
    f.add(sid);
  f.join("a", {"r"});
  f.join("b", {"r", "other"});
  f.join("d", {"other"});
  f.broadcast(target({"r"}), "room");
  REQUIRE(f.log->wait([](auto& recs) { return receivers_in(recs, "room").size() >= 2; }));
  REQUIRE(f.settle({"r", "other"}));
  CHECK(f.receivers("room") == names{"a", "b"});
}

TEST_CASE("adapter: a broadcast to a socket id reaches that socket only", "[adapter]") {
  adapter_fixture f;
  for (auto sid : {"a", "b", "c"})
    f.add(sid);
  f.join("b", {"r"});
  f.broadcast(target({"b"}), "private");
  REQUIRE(f.settle({"r"}));
  CHECK(f.receivers("private") == names{"b"});
}

TEST_CASE("adapter: a socket in several target rooms gets one copy", "[adapter]") {
  adapter_fixture f;
  for (auto sid : {"a", "b", "c", "d"})
    f.add(sid);
  f.join("a", {"r1", "r2"});
  f.join("b", {"r1"});
  f.join("c", {"r2"});
  f.join("d", {"r3"});
  f.broadcast(target({"r1", "r2"}), "two");
  f.broadcast(target({"r1", "r2", "b"}), "three"); // b's own room as well
  f.broadcast(target({"r1", "nobody"}), "missing"); // a room without members
  REQUIRE(f.settle({"r1", "r2", "r3"}));
  CHECK(f.receivers("two") == names{"a", "b", "c"});
  CHECK(f.receivers("three") == names{"a", "b", "c"});
  CHECK(f.receivers("missing") == names{"a", "b"});
}

TEST_CASE("adapter: except leaves out rooms and socket ids", "[adapter]") {
  adapter_fixture f;
  for (auto sid : {"a", "b", "c", "d"})
    f.add(sid);
  f.join("a", {"r", "vip"});
  f.join("b", {"r"});
  f.join("c", {"r", "s"});
  f.join("d", {"s"});

  SECTION("one room, except a socket id") {
    f.broadcast(target({"r"}, {"b"}), "x");
    REQUIRE(f.settle({"r", "s", "vip"}));
    CHECK(f.receivers("x") == names{"a", "c"});
  }
  SECTION("one room, except another room") {
    f.broadcast(target({"r"}, {"vip"}), "x");
    REQUIRE(f.settle({"r", "s", "vip"}));
    CHECK(f.receivers("x") == names{"b", "c"});
  }
  SECTION("one room, except that same room") {
    f.broadcast(target({"r"}, {"r"}), "x");
    REQUIRE(f.settle({"r", "s", "vip"}));
    CHECK(f.receivers("x").empty());
  }
  SECTION("several rooms, except a room and a socket id") {
    f.broadcast(target({"r", "s"}, {"vip", "d"}), "x");
    REQUIRE(f.settle({"r", "s", "vip"}));
    CHECK(f.receivers("x") == names{"b", "c"});
  }
  SECTION("the whole namespace, except a room") {
    f.broadcast(target({}, {"s"}), "x");
    REQUIRE(f.settle({"r", "s", "vip"}));
    CHECK(f.receivers("x") == names{"a", "b"});
  }
  SECTION("except a room nobody is in excludes nobody") {
    f.broadcast(target({"r"}, {"unknown"}), "x");
    REQUIRE(f.settle({"r", "s", "vip"}));
    CHECK(f.receivers("x") == names{"a", "b", "c"});
  }
}

TEST_CASE("adapter: a room nobody is in reaches nobody", "[adapter]") {
  adapter_fixture f;
  for (auto sid : {"a", "b"})
    f.add(sid);
  f.join("a", {"r"});
  f.broadcast(target({"nobody"}), "x");
  f.broadcast(target({"gone-socket-id"}), "y");
  REQUIRE(f.settle({"r"}));
  CHECK(f.receivers("x").empty());
  CHECK(f.receivers("y").empty());
}

TEST_CASE("adapter: join is idempotent, unknown sockets are ignored", "[adapter]") {
  adapter_fixture f;
  f.add("a");
  f.join("a", {"r", "r"});
  f.join("a", {"r"});
  f.join("ghost", {"r"});     // never added
  f.leave("a", "not-joined"); // no effect
  f.broadcast(target({"r"}), "x");
  REQUIRE(f.settle({"r"}));
  CHECK(f.receivers("x") == names{"a"});
  CHECK(f.select(target({"r"})) == names{"sock:a"});
}

TEST_CASE("adapter: leave and remove update membership", "[adapter]") {
  adapter_fixture f;
  for (auto sid : {"a", "b", "c"})
    f.add(sid);
  f.join("a", {"r"});
  f.join("b", {"r"});
  f.join("c", {"r"});
  f.leave("a", "r");
  f.broadcast(target({"r"}), "after-leave");
  REQUIRE(f.settle({"r"}));
  CHECK(f.receivers("after-leave") == names{"b", "c"});

  f.remove("b");
  f.broadcast(target({"r"}), "after-remove-room");
  f.broadcast(target(), "after-remove-all");
  f.broadcast(target({"b"}), "to-removed-id");
  REQUIRE(f.settle({"r"}));
  CHECK(f.receivers("after-remove-room") == names{"c"});
  CHECK(f.receivers("after-remove-all") == names{"a", "c"});
  CHECK(f.receivers("to-removed-id").empty());
  CHECK(f.select(target()) == names{"sock:a", "sock:c"});
  CHECK(f.select(target({"r"})) == names{"sock:c"});
}

TEST_CASE("adapter: a room whose last member left is gone; the adapter keeps working",
          "[adapter]") {
  adapter_fixture f;
  f.self->monitor(f.adapter);
  for (auto sid : {"a", "b", "c"})
    f.add(sid);
  REQUIRE(f.settle());
  // Probes, the adapter and the scoped actor; no room yet.
  auto without_rooms = f.sys.registry().running();
  f.join("a", {"r"});
  f.join("b", {"r"});
  REQUIRE(f.settle({"r"}));

  SECTION("everyone left") {
    f.leave("a", "r");
    f.leave("b", "r");
  }
  SECTION("everyone was removed") {
    f.remove("a");
    f.remove("b");
  }
  f.broadcast(target({"r"}), "after-empty");
  // The adapter still works after the room emptied ...
  REQUIRE(f.settle());
  CHECK(f.receivers("after-empty").empty());
  CHECK(f.select(target({"r"})).empty());
  // ... and nothing is left running for the empty room.
  CHECK(f.wait_running(without_rooms));

  // A new member gets a fresh room; the old members stay out.
  f.join("c", {"r"});
  f.broadcast(target({"r"}), "refilled");
  REQUIRE(f.settle({"r"}));
  CHECK(f.receivers("refilled") == names{"c"});
  f.self->receive(
    [&](caf::down_msg& dm) { FAIL_CHECK("the adapter stopped: " << f.sys.render(dm.reason)); },
    caf::after(std::chrono::milliseconds(0)) >> [] {});
}

// Regression: when rooms had their own fan-out actors, a room actor only knew
// members that joined after it was spawned, never the socket whose own room
// it is, so io.to(id) lost that socket once another socket joined "<id>".
TEST_CASE("adapter: a socket that joins another socket's id room", "[adapter]") {
  // io.to(socketId) must keep reaching that socket whoever else joins the
  // room named after it.
  adapter_fixture f;
  SECTION("after that socket was added") {
    f.add("a");
    f.add("b");
    f.join("b", {"a"});
  }
  SECTION("before that socket was added") {
    f.add("b");
    f.join("b", {"a"});
    f.add("a");
  }
  f.broadcast(target({"a"}), "both");
  REQUIRE(f.log->wait([](auto& recs) { return receivers_in(recs, "both").size() >= 2; }));
  REQUIRE(f.settle({"a"}));
  CHECK(f.receivers("both") == names{"a", "b"});

  f.leave("b", "a");
  f.broadcast(target({"a"}), "only-a");
  REQUIRE(f.log->wait([](auto& recs) { return !receivers_in(recs, "only-a").empty(); }));
  REQUIRE(f.settle({"a"}));
  CHECK(f.receivers("only-a") == names{"a"});
}

TEST_CASE("adapter: a target selects the matching socket actors", "[adapter]") {
  adapter_fixture f;
  for (auto sid : {"a", "b", "c", "d"})
    f.add(sid);
  f.join("a", {"r1", "r2"});
  f.join("b", {"r1"});
  f.join("c", {"r2"});
  CHECK(f.select(target()) == names{"sock:a", "sock:b", "sock:c", "sock:d"});
  CHECK(f.select(target({"r1"})) == names{"sock:a", "sock:b"});
  CHECK(f.select(target({"r1", "r2"})) == names{"sock:a", "sock:b", "sock:c"});
  CHECK(f.select(target({"r1", "r2"}, {"a"})) == names{"sock:b", "sock:c"});
  CHECK(f.select(target({}, {"r2"})) == names{"sock:b", "sock:d"});
  CHECK(f.select(target({"d"})) == names{"sock:d"});
  CHECK(f.select(target({"nobody"})).empty());
  CHECK(f.select(target({"r1"}, {"r1"})).empty());
}

TEST_CASE("adapter: sockets_join, sockets_leave and disconnect_sockets", "[adapter]") {
  adapter_fixture f;
  for (auto sid : {"a", "b", "c"})
    f.add(sid);
  f.join("a", {"r"});
  f.join("b", {"r"});
  auto sock = [](const std::string& sid) { return "sock:" + sid; };

  SECTION("sockets_join asks each matching socket to join, once") {
    f.self->send(f.adapter, sockets_join_atom::value, target({"r", "a"}),
                 std::vector<std::string>{"x", "y"});
    REQUIRE(f.sync_sockets());
    for (auto sid : {"a", "b"}) {
      auto joins = f.log->of(sock(sid), "join");
      REQUIRE(joins.size() == 1);
      CHECK(joins[0].items == std::vector<std::string>{"x", "y"});
    }
    CHECK(f.log->of(sock("c"), "join").empty());
  }
  SECTION("sockets_leave sends one leave per room") {
    f.self->send(f.adapter, sockets_leave_atom::value, target({}, {"b"}),
                 std::vector<std::string>{"r", "z"});
    REQUIRE(f.sync_sockets());
    for (auto sid : {"a", "c"}) {
      auto leaves = f.log->of(sock(sid), "leave");
      REQUIRE(leaves.size() == 2);
      CHECK(leaves[0].items == std::vector<std::string>{"r"});
      CHECK(leaves[1].items == std::vector<std::string>{"z"});
    }
    CHECK(f.log->of(sock("b"), "leave").empty());
  }
  SECTION("disconnect_sockets passes the close flag") {
    f.self->send(f.adapter, disconnect_sockets_atom::value, target({"r"}, {"a"}), true);
    f.self->send(f.adapter, disconnect_sockets_atom::value, target({"c"}), false);
    REQUIRE(f.sync_sockets());
    auto b = f.log->of(sock("b"), "disconnect");
    REQUIRE(b.size() == 1);
    CHECK(b[0].flag);
    auto c = f.log->of(sock("c"), "disconnect");
    REQUIRE(c.size() == 1);
    CHECK_FALSE(c[0].flag);
    CHECK(f.log->of(sock("a"), "disconnect").empty());
  }
  // Bulk operations go to socket actors, never to sessions.
  for (auto sid : {"a", "b", "c"}) {
    CHECK(f.log->of(sid, "join").empty());
    CHECK(f.log->of(sid, "leave").empty());
    CHECK(f.log->of(sid, "disconnect").empty());
  }
}

// Regression: when a broadcast to one room went through that room's actor
// while other targets were served by the adapter directly, a later broadcast
// overtook an earlier one on its way to the same session (nearly every pair
// swapped). Socket.IO guarantees a connection gets the server's packets in
// the order they were sent; with one path from the adapter to each session
// the order is certain.
TEST_CASE("adapter: broadcasts reach a session in the order they were sent", "[adapter]") {
  adapter_fixture f;
  f.add("a");
  f.add("b");
  f.join("a", {"r1", "r2"});
  f.join("b", {"r1"});
  REQUIRE(f.settle({"r1", "r2"}));
  const std::vector<broadcast_target> targets{target({"r1"}), target(), target({"r2"}),
                                              target({"r1", "r2"})};
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    auto event = "m" + std::to_string(i);
    f.broadcast(targets[static_cast<std::size_t>(i) % targets.size()], event);
    expected.push_back(event_text(event));
  }
  REQUIRE(f.log->wait([](auto& recs) { return receivers_in(recs, "m199").count("a") == 1; }));
  REQUIRE(f.settle({"r1", "r2"}));
  std::vector<std::string> got;
  for (auto& text : f.log->sent_texts("a"))
    if (text.rfind("2[\"m", 0) == 0)
      got.push_back(text);
  CHECK(got == expected);
}

TEST_CASE("adapter: rooms lists this node's rooms with their sizes", "[adapter]") {
  adapter_fixture f;
  using sizes = std::map<std::string, std::size_t>;
  CHECK(f.rooms().empty());
  f.add("a");
  f.add("b");
  f.join("a", {"r", "s"});
  f.join("b", {"r"});
  CHECK(f.rooms() == sizes{{"a", 1}, {"b", 1}, {"r", 2}, {"s", 1}});
  f.leave("a", "s");
  f.remove("b");
  CHECK(f.rooms() == sizes{{"a", 1}, {"r", 1}});
}

TEST_CASE("adapter: a single node is the only server", "[adapter]") {
  adapter_fixture f;
  std::size_t count = 0;
  f.self->request(f.adapter, wait_limit, server_count_atom::value)
    .receive([&](std::size_t n) { count = n; },
             [&](caf::error& err) { FAIL_CHECK(f.sys.render(err)); });
  CHECK(count == 1);

  // Node's serverSideEmit on one node reaches nobody: a handler registered
  // here does not run, and one with ack is answered at once, with no answers.
  auto ran = std::make_shared<std::atomic<int>>(0);
  f.ns->update_handlers([&](namespace_handlers& h) {
    h.server_side["ping"] = [ran](json, sio::ack_handle ack) {
      ++*ran;
      ack(json::array({"pong"}));
    };
  });
  f.self->send(f.adapter, server_emit_atom::value,
               server_side_event{"ping", json::array(), {}, false});
  bool answered = false;
  f.self->request(f.adapter, wait_limit, server_emit_ack_atom::value,
                  server_side_event{"ping", json::array(), 100ms, false})
    .receive(
      [&](const std::vector<json>& answers, bool all) {
        answered = true;
        CHECK(answers.empty());
        CHECK(all);
      },
      [&](caf::error& err) { FAIL_CHECK(f.sys.render(err)); });
  CHECK(answered);
  CHECK(*ran == 0);

  // From another node (`local` set, as the cluster actor sends it) the
  // handler runs, and its first ack argument is the answer.
  f.self->request(f.adapter, wait_limit, server_emit_ack_atom::value,
                  server_side_event{"ping", json::array(), 100ms, true})
    .receive(
      [&](const std::vector<json>& answers, bool all) {
        CHECK(answers == std::vector<json>{"pong"});
        CHECK(all);
      },
      [&](caf::error& err) { FAIL_CHECK(f.sys.render(err)); });
  CHECK(*ran == 1);
}
