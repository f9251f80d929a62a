// Room actors (socketio/room_actor.*, sio/room.hpp, sio/room_ref.hpp): one
// actor per named room per node beside the adapter's delivery path. Its life
// events, the messages it sees, on_room behaviour, room_ref, and that
// delivery order is what it was without room actors. Sessions and sockets
// are recorder actors; nothing touches the network, nothing is timed.
#include "socketio/handle_access.hpp"
#include "socketio/room_actor.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "actor_test_support.hpp"
#include "sio/room.hpp"
#include "sio/room_ref.hpp"
#include "sio/server.hpp"
#include "socketio/namespace_state.hpp"

using namespace sio::socketio;
using namespace sio_test;
using sio::json;

namespace {

using names = std::multiset<std::string>;
using texts = std::vector<std::string>;

/// A namespace "/" with its real (local) adapter and fake sockets in it.
struct room_fixture : adapter_harness {
  std::shared_ptr<namespace_state> ns =
    namespace_state::create(sys, "/", std::make_shared<const sio::server_options>());
  sio::namespace_handle io = sio::socketio::handle_access::make_namespace_handle(ns);

  room_fixture() { adapter = ns->adapter; }
  ~room_fixture() { ns.reset(); } // stops the adapter, and with it the room actors

  /// Records every life event and message of every named room as
  /// who = "room:<name>", kind = create / join / leave / message / delete.
  void record_rooms() {
    auto l = log;
    io.on_room([](const std::string&) { return true; },
               [l](sio::room& r) {
                 l->add(record{"room:" + r.name(), "create", {}, false, 0});
                 r.on_join([l](sio::room& rm, const std::string& sid) {
                   l->add(record{"room:" + rm.name(), "join", {sid}, false, 0});
                 });
                 r.on_leave([l](sio::room& rm, const std::string& sid) {
                   l->add(record{"room:" + rm.name(), "leave", {sid}, false, 0});
                 });
                 r.on_message([l](sio::room& rm, const sio::room_message& m) {
                   l->add(record{"room:" + rm.name(), "message", {m.event()}, false, 0});
                 });
                 r.on_delete([l](sio::room& rm) {
                   l->add(record{"room:" + rm.name(), "delete", {}, false, 0});
                 });
               });
  }

  /// Waits until room `room` recorded `kind` with first item `item` (any if empty).
  bool wait_room(const std::string& room, const std::string& kind, const std::string& item = {}) {
    return log->wait([&](const std::vector<record>& recs) {
      return std::any_of(recs.begin(), recs.end(), [&](const record& r) {
        return r.who == "room:" + room && r.kind == kind
               && (item.empty() || (!r.items.empty() && r.items.front() == item));
      });
    });
  }

  /// Kind (and first item) of each record of room `room`, in order.
  texts room_events(const std::string& room) const {
    texts out;
    for (auto& r : log->snapshot())
      if (r.who == "room:" + room)
        out.push_back(r.items.empty() ? r.kind : r.kind + " " + r.items.front());
    return out;
  }

  /// Messages room `room` saw (event names), in order.
  texts room_messages(const std::string& room) const {
    texts out;
    for (auto& r : log->of("room:" + room, "message"))
      out.push_back(r.items.front());
    return out;
  }
};

} // namespace

TEST_CASE("room actors: create, join, leave and delete, in order", "[room]") {
  room_fixture f;
  f.record_rooms();
  // Node's adapter events, as namespace callbacks (they run in the room actor).
  f.io.on_create_room([l = f.log](const std::string& room) {
    l->add(record{"ns", "create-room", {room}, false, 0});
  });
  f.io.on_join_room([l = f.log](const std::string& room, const std::string& sid) {
    l->add(record{"ns", "join-room", {room, sid}, false, 0});
  });
  f.io.on_leave_room([l = f.log](const std::string& room, const std::string& sid) {
    l->add(record{"ns", "leave-room", {room, sid}, false, 0});
  });
  f.io.on_delete_room([l = f.log](const std::string& room) {
    l->add(record{"ns", "delete-room", {room}, false, 0});
  });
  f.add("a");
  f.add("b");
  f.join("a", {"r"});
  f.join("b", {"r", "s"});
  f.leave("a", "r");
  f.remove("b"); // leaves r and s
  REQUIRE(f.wait_room("r", "delete"));
  REQUIRE(f.wait_room("s", "delete"));
  // The namespace's delete-room callback runs in the same actor right after
  // the room's own on_delete: wait for it too, not only for the room's record.
  REQUIRE(f.log->wait([](const std::vector<record>& recs) {
    return std::count_if(recs.begin(), recs.end(), [](const record& r) {
             return r.who == "ns" && r.kind == "delete-room";
           })
           == 2;
  }));
  CHECK(f.room_events("r")
        == texts{"create", "join a", "join b", "leave a", "leave b", "delete"});
  CHECK(f.room_events("s") == texts{"create", "join b", "leave b", "delete"});
  // A socket's own room (named after its id) has no actor.
  CHECK(f.room_events("a").empty());
  CHECK(f.room_events("b").empty());

  std::vector<texts> r_events;
  for (auto& rec : f.log->snapshot())
    if (rec.who == "ns" && rec.items.front() == "r")
      r_events.push_back(texts{rec.kind, rec.items.size() > 1 ? rec.items[1] : ""});
  CHECK(r_events
        == std::vector<texts>{{"create-room", ""}, {"join-room", "a"}, {"join-room", "b"},
                              {"leave-room", "a"}, {"leave-room", "b"}, {"delete-room", ""}});
}

TEST_CASE("room actors: see every message to their room, and only those", "[room]") {
  room_fixture f;
  f.record_rooms();
  for (auto sid : {"a", "b", "c"})
    f.add(sid);
  f.join("a", {"r"});
  f.join("b", {"r", "s"});
  f.broadcast(target({"r"}), "to-r");
  f.broadcast(target({"s"}), "to-s");
  f.broadcast(target(), "to-all");                // the namespace: not "to a room"
  f.broadcast(target({"r", "s"}), "to-r-and-s");  // each room once
  f.broadcast(target({"r"}, {"a"}), "to-r-but-a"); // still a message to r
  f.broadcast(target({"c"}), "to-c");              // a socket id's room
  f.broadcast(target({"r", "b"}), "to-r-and-b");
  f.broadcast(target({}, {"s"}), "to-all-but-s");
  f.broadcast(target({"r"}), "end");
  f.broadcast(target({"s"}), "end");
  REQUIRE(f.wait_room("r", "message", "end"));
  REQUIRE(f.wait_room("s", "message", "end"));
  CHECK(f.room_messages("r") == texts{"to-r", "to-r-and-s", "to-r-but-a", "to-r-and-b", "end"});
  CHECK(f.room_messages("s") == texts{"to-s", "to-r-and-s", "end"});
  // Delivery is the adapter's, as before: room actors take nothing away.
  REQUIRE(f.settle({"r", "s"}));
  CHECK(f.receivers("to-r-but-a") == names{"b"});
  CHECK(f.receivers("to-r-and-s") == names{"a", "b"});
}

TEST_CASE("room actors: a message is the broadcast's own, decoded on demand", "[room]") {
  room_fixture f;
  auto got = std::make_shared<handoff<sio::room_message>>();
  f.io.on_room([](const std::string& room) { return room == "r"; },
               [cb = got->callback()](sio::room& r) {
                 r.on_message([cb](sio::room&, const sio::room_message& m) { cb(m); });
               });
  f.add("a");
  f.join("a", {"r"});
  auto packets = make_event(sio::wire_format::json, "/", "chat", json::array({"hi", 42, json::object({{"k", true}})}));
  auto msg = caf::make_message(sio::engineio::send_atom::value, packets, false);
  f.self->send(f.adapter, broadcast_atom::value, target({"r"}), msg);
  auto m = got->get();
  REQUIRE(m);
  // The same caf::message the sessions got: no copy of it or of its packets.
  CHECK(m->encoded().cvals().get() == msg.cvals().get());
  CHECK(m->encoded().get_as<std::vector<sio::engineio::packet_ptr>>(1).front().get()
        == packets.front().get());
  CHECK(m->event() == "chat");
  CHECK(m->args() == json::array({"hi", 42, json::object({{"k", true}})}));
  CHECK_FALSE(m->is_volatile());
}

TEST_CASE("room actors: on_room setup runs once per matching room, in its actor", "[room]") {
  room_fixture f;
  // setup: (room, actor id, actor name); join: (room/sid, actor id).
  auto setup = [l = f.log](sio::room& r) {
    l->add(record{"setup", "", {r.name(), std::to_string(r.self()->id()), r.self()->name()}});
    r.on_join([l](sio::room& rm, const std::string& sid) {
      l->add(record{"join", "", {rm.name() + "/" + sid, std::to_string(rm.self()->id())}});
    });
  };
  f.io.on_room(std::regex{"chat:.*"}, setup);
  f.io.on_room([](const std::string& room) { return room == "lobby"; }, setup);
  for (auto sid : {"a", "b", "c"})
    f.add(sid);
  f.join("a", {"chat:1", "chat:2", "lobby", "other"});
  f.join("b", {"chat:1", "lobby"});
  f.join("c", {"chat:1"});
  f.join("a", {"chat:1"}); // already in: no second join
  REQUIRE(f.log->wait([](auto& recs) {
    return std::count_if(recs.begin(), recs.end(), [](auto& r) { return r.who == "join"; }) == 6;
  }));
  // Every later event passed the adapter after these: a marker to each room
  // has reached every member once the room actors handled the joins above.
  REQUIRE(f.settle({"chat:1", "chat:2", "lobby", "other"}));
  std::multiset<std::string> rooms;
  std::map<std::string, std::string> actor_of;
  for (auto& rec : f.log->snapshot()) {
    if (rec.who != "setup")
      continue;
    rooms.insert(rec.items[0]);
    actor_of[rec.items[0]] = rec.items[1];
    CHECK(rec.items[2] == "sio.room");
  }
  CHECK(rooms == names{"chat:1", "chat:2", "lobby"});
  std::set<std::string> actors;
  for (auto& [room, id] : actor_of)
    actors.insert(id);
  CHECK(actors.size() == 3);
  // Each room's handlers run in the actor its setup ran in.
  std::multiset<std::string> joins;
  for (auto& rec : f.log->snapshot()) {
    if (rec.who != "join")
      continue;
    joins.insert(rec.items[0]);
    auto room = rec.items[0].substr(0, rec.items[0].find('/'));
    CHECK(rec.items[1] == actor_of[room]);
  }
  CHECK(joins == names{"chat:1/a", "chat:1/b", "chat:1/c", "chat:2/a", "lobby/a", "lobby/b"});
}

TEST_CASE("room actors: a room ends with its last member and starts again", "[room]") {
  room_fixture f;
  f.record_rooms();
  f.add("a");
  f.add("b");
  REQUIRE(f.settle());
  const auto without_rooms = f.sys.registry().running();
  f.join("a", {"r"});
  f.join("b", {"r"});
  REQUIRE(f.wait_room("r", "join", "b"));
  CHECK(f.sys.registry().running() == without_rooms + 1);
  f.leave("a", "r");
  f.remove("b");
  REQUIRE(f.wait_room("r", "delete"));
  CHECK(f.wait_running(without_rooms));
  // Messages to the empty room reach no actor.
  f.broadcast(target({"r"}), "nobody");
  REQUIRE(f.settle());

  f.join("a", {"r"});
  f.broadcast(target({"r"}), "again");
  REQUIRE(f.wait_room("r", "message", "again"));
  CHECK(f.room_events("r")
        == texts{"create", "join a", "join b", "leave a", "leave b", "delete", "create",
                 "join a", "message again"});
}

TEST_CASE("room actors: a socket in no named room costs no actor", "[room]") {
  room_fixture f;
  f.record_rooms();
  REQUIRE(f.settle());
  const auto before = f.sys.registry().running();
  for (auto sid : {"a", "b", "c"})
    f.add(sid); // two probes each, and only the probes
  f.join("b", {"a"}); // another socket's id room is that socket's private room
  f.broadcast(target({"a"}), "private");
  REQUIRE(f.settle({"a"}));
  CHECK(f.sys.registry().running() == before + 6);
  CHECK(f.receivers("private") == names{"a", "b"});
  CHECK(f.room_events("a").empty());
}

TEST_CASE("room actors: room_ref emits, counts, lists and sends", "[room]") {
  room_fixture f;
  auto apps = std::make_shared<handoff<std::string>>();
  f.io.on_room([](const std::string& room) { return room == "r"; },
               [cb = apps->callback()](sio::room& r) {
                 r.on_app_message([cb](sio::room& rm, const caf::message& msg) {
                   if (msg.match_elements<std::string>())
                     cb(rm.name() + ":" + msg.get_as<std::string>(0));
                 });
               });
  for (auto sid : {"a", "b", "c"})
    f.add(sid);
  f.join("a", {"r"});
  f.join("b", {"r"});
  auto r = f.io.room("r");
  CHECK(r.name() == "r");
  CHECK(static_cast<bool>(r));

  r.emit("hello", 1);
  REQUIRE(f.settle({"r"}));
  std::multiset<std::string> got;
  for (auto& rec : f.log->snapshot())
    if (rec.kind == "send" && !rec.items.empty() && rec.items.front() == "2[\"hello\",1]")
      got.insert(rec.who);
  CHECK(got == names{"a", "b"});

  handoff<std::size_t> size;
  r.size(size.callback());
  CHECK(size.get() == std::size_t{2});
  handoff<std::vector<std::string>> members;
  r.members(members.callback());
  CHECK(members.get() == std::vector<std::string>{"a", "b"});

  r.send(caf::make_message(std::string{"ping"}));
  CHECK(apps->get() == std::string{"r:ping"});

  // A room nobody is in: size 0, no members, a send goes nowhere.
  auto empty = f.io.room("empty");
  handoff<std::size_t> none;
  empty.size(none.callback());
  CHECK(none.get() == std::size_t{0});
  handoff<std::vector<std::string>> no_members;
  empty.members(no_members.callback());
  CHECK(no_members.get() == std::vector<std::string>{});
  empty.send(caf::make_message(std::string{"lost"}));
  REQUIRE(f.settle({"r"}));
  CHECK(apps->calls() == 1);
}

TEST_CASE("room actors: a room emits from inside, to all and to one socket", "[room]") {
  room_fixture f;
  f.io.on_room([](const std::string& room) { return room == "r"; }, [](sio::room& r) {
    r.on_join([](sio::room& rm, const std::string& sid) {
      rm.emit_to(sid, "welcome", rm.size());
      rm.emit("joined", sid);
    });
  });
  f.add("a");
  f.add("b");
  f.join("a", {"r"});
  REQUIRE(f.log->wait([](auto& recs) {
    return std::any_of(recs.begin(), recs.end(), [](const record& r) {
      return r.who == "a" && r.kind == "send" && r.items.front() == "2[\"joined\",\"a\"]";
    });
  }));
  f.join("b", {"r"});
  REQUIRE(f.log->wait([](auto& recs) {
    return std::count_if(recs.begin(), recs.end(), [](const record& r) {
             return r.kind == "send" && r.items.front() == "2[\"joined\",\"b\"]";
           })
           == 2;
  }));
  REQUIRE(f.settle({"r"}));
  CHECK(f.log->sent_texts("a")
        == texts{"2[\"welcome\",1]", "2[\"joined\",\"a\"]", "2[\"joined\",\"b\"]",
                 event_text("settle1:r"), event_text("settle1")});
  auto b = f.log->sent_texts("b");
  CHECK(std::count(b.begin(), b.end(), "2[\"welcome\",2]") == 1);
  CHECK(std::count(b.begin(), b.end(), "2[\"joined\",\"a\"]") == 0);
}

// The chat history the API is meant to make easy: each room keeps its last
// 50 messages and sends them to a joiner, as they were sent (no re-encoding).
TEST_CASE("room actors: a room's last 50 messages replayed to a joiner", "[room]") {
  room_fixture f;
  f.io.on_room(std::regex{"chat:.*"}, [](sio::room& r) {
    auto history = std::make_shared<std::deque<sio::room_message>>();
    r.on_message([history](sio::room&, const sio::room_message& m) {
      history->push_back(m);
      if (history->size() > 50)
        history->pop_front();
    });
    r.on_join([history](sio::room& rm, const std::string& sid) {
      for (auto& m : *history)
        rm.replay(sid, m);
    });
  });
  f.add("a");
  f.add("b");
  f.join("a", {"chat:1"});
  texts expected;
  for (int i = 0; i < 60; ++i) {
    auto event = "m" + std::to_string(i);
    f.broadcast(target({"chat:1"}), event);
    if (i >= 10)
      expected.push_back(event_text(event));
  }
  REQUIRE(f.log->wait([](auto& recs) { return receivers_in(recs, "m59").count("a") == 1; }));
  f.join("b", {"chat:1"});
  REQUIRE(f.log->wait([](auto& recs) { return receivers_in(recs, "m59").count("b") == 1; }));
  REQUIRE(f.settle({"chat:1"}));
  texts got;
  for (auto& text : f.log->sent_texts("b"))
    if (text.rfind("2[\"m", 0) == 0)
      got.push_back(text);
  CHECK(got == expected);
  // a got each once, live.
  CHECK(f.receivers("m0") == names{"a"});
  CHECK(f.receivers("m59") == names{"a", "b"});
}

TEST_CASE("room actors: a handler that throws does not end the room", "[room]") {
  room_fixture f;
  f.record_rooms();
  f.io.on_room([](const std::string&) { return true; }, [](sio::room& r) {
    r.on_join([](sio::room&, const std::string&) { throw std::runtime_error("app bug"); });
  });
  f.add("a");
  f.add("b");
  f.join("a", {"r"});
  f.join("b", {"r"});
  f.broadcast(target({"r"}), "still-here");
  REQUIRE(f.wait_room("r", "message", "still-here"));
  CHECK(f.room_events("r") == texts{"create", "join a", "join b", "message still-here"});
}

// Socket.IO's guarantee, with a room actor seeing the room's messages: they
// stand beside the delivery path, so io.to(r).emit(a); io.emit(b) still
// reaches a member of r as a, then b.
TEST_CASE("room actors: io.to(r).emit(a); io.emit(b) arrive a, then b, with on_room handlers",
          "[room][order]") {
  room_fixture f;
  f.record_rooms(); // an on_message handler in every room actor
  f.add("m");
  f.add("other");
  f.join("m", {"r"});
  REQUIRE(f.settle({"r"}));
  check_room_then_all_order(f.io.all(), *f.log, "m");
  // The room actor saw the 100 messages to r, not io.emit's.
  REQUIRE(f.wait_room("r", "message", "a99"));
  auto seen = f.room_messages("r");
  CHECK(std::count_if(seen.begin(), seen.end(), [](auto& e) { return e[0] == 'a'; }) == 100);
  CHECK(std::count_if(seen.begin(), seen.end(), [](auto& e) { return e[0] == 'b'; }) == 0);
}
