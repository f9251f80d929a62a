// Acknowledgements both ways: sio::ack_handle on its own, a client's ack
// request answered by a real socket actor, the server's emit_with_ack to one
// client, and a broadcast with ack through real socket actors. Sessions are
// recorder actors; the "client" sends decoded packets to the socket actors.
#include "sio/ack.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "actor_test_support.hpp"
#include "sio/socket.hpp"

using namespace sio::socketio;
using namespace sio_test;
using namespace std::chrono_literals;
using sio::ack_handle;
using sio::ack_result;
using sio::broadcast_ack_result;
using sio::json;

namespace {

json bin(std::string_view bytes) {
  return json::binary(json::binary_t::container_type(bytes.begin(), bytes.end()));
}

/// The ack id of the EVENT `event` the server sent to `sid`.
std::optional<std::uint64_t> ack_id_of(server_fixture& f, const std::string& sid,
                                       const std::string& event) {
  auto p = f.wait_packet(sid, packet_type::event, event);
  if (!p)
    return std::nullopt;
  return p->id;
}

std::size_t count_type(const std::vector<packet>& packets, packet_type type) {
  return static_cast<std::size_t>(std::count_if(
    packets.begin(), packets.end(), [&](const packet& p) { return p.type == type; }));
}

} // namespace

// -- ack_handle -----------------------------------------------------------------

TEST_CASE("ack_handle: an empty handle was not requested and sends nothing", "[ack]") {
  ack_handle none;
  CHECK_FALSE(none.requested());
  none(); // no effect, no crash
  ack_handle no_function{std::function<void(json)>{}};
  CHECK_FALSE(no_function.requested());
  no_function(json::array({1}));
}

TEST_CASE("ack_handle: only the first call of any copy sends", "[ack]") {
  std::vector<json> sent;
  ack_handle h{[&](json args) { sent.push_back(std::move(args)); }};
  auto copy = h;
  CHECK(h.requested());
  CHECK(copy.requested());
  copy(json::array({1, "two"}));
  CHECK_FALSE(h.requested());
  CHECK_FALSE(copy.requested());
  h(json::array({"again"}));
  copy();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0] == json::array({1, "two"}));
}

TEST_CASE("ack_handle: arguments are always an array", "[ack]") {
  auto answer = [](std::function<void(const ack_handle&)> call) {
    json got;
    ack_handle h{[&](json args) { got = std::move(args); }};
    call(h);
    return got;
  };
  CHECK(answer([](const ack_handle& h) { h(); }) == json::array());
  CHECK(answer([](const ack_handle& h) { h("pong"); }) == json::array({"pong"}));
  CHECK(answer([](const ack_handle& h) { h(42); }) == json::array({42}));
  CHECK(answer([](const ack_handle& h) { h(json{{"k", 1}}); }) == json::array({json{{"k", 1}}}));
  CHECK(answer([](const ack_handle& h) { h(json(nullptr)); }) == json::array({nullptr}));
  CHECK(answer([](const ack_handle& h) { h(json::array({json::array({1})})); })
        == json::array({json::array({1})}));
}

// -- the client asks, the server's handler answers -------------------------------

TEST_CASE("socket: a client's ack request is answered once", "[ack][socket]") {
  server_fixture f;
  f.io.on_connection([](sio::socket& s) {
    s.on("ask", [](sio::socket& s, sio::event& ev) {
      s.emit("requested", ev.ack.requested());
      auto copy = ev.ack;
      ev.ack("pong"); // not an array: becomes ["pong"]
      copy(json::array({"again"}));
      ev.ack();
      s.emit("done", ev.ack.requested(), copy.requested());
    });
  });
  REQUIRE(f.connect("s1"));

  SECTION("with an ack id") {
    f.from_client("s1", server_fixture::make_packet(packet_type::event, 5, json::array({"ask"})));
    REQUIRE(f.wait_packet("s1", packet_type::event, "done"));
    auto packets = f.packets_to("s1");
    REQUIRE(count_type(packets, packet_type::ack) == 1);
    auto ack = std::find_if(packets.begin(), packets.end(),
                            [](const packet& p) { return p.type == packet_type::ack; });
    CHECK(ack->id == std::optional<std::uint64_t>{5});
    CHECK(ack->nsp == "/");
    CHECK(ack->data == json::array({"pong"}));
    auto requested = find_packet(f.log->snapshot(), "s1", packet_type::event, "requested");
    REQUIRE(requested);
    CHECK(requested->data == json::array({"requested", true}));
    auto done = find_packet(f.log->snapshot(), "s1", packet_type::event, "done");
    CHECK(done->data == json::array({"done", false, false}));
    // The exact wire form, as socket.io-parser writes it.
    auto texts = f.log->sent_texts("s1");
    CHECK(std::count(texts.begin(), texts.end(), std::string{"35[\"pong\"]"}) == 1);
  }
  SECTION("without an ack id") {
    f.from_client("s1", server_fixture::make_packet(packet_type::event, {}, json::array({"ask"})));
    REQUIRE(f.wait_packet("s1", packet_type::event, "done"));
    auto packets = f.packets_to("s1");
    CHECK(count_type(packets, packet_type::ack) == 0);
    auto requested = find_packet(f.log->snapshot(), "s1", packet_type::event, "requested");
    REQUIRE(requested);
    CHECK(requested->data == json::array({"requested", false}));
  }
}

TEST_CASE("socket: an ack with binary data is a BINARY_ACK", "[ack][socket]") {
  server_fixture f;
  f.io.on_connection([](sio::socket& s) {
    s.on("file", [](sio::socket& s, sio::event& ev) {
      ev.ack(json::array({"ok", bin("\x01\x02")}));
      s.emit("done");
    });
  });
  REQUIRE(f.connect("s1"));
  f.from_client("s1", server_fixture::make_packet(packet_type::event, 9, json::array({"file"})));
  REQUIRE(f.wait_packet("s1", packet_type::event, "done"));
  REQUIRE(f.ping(f.sessions["s1"]));
  auto sends = f.log->of("s1", "send");
  auto ack = std::find_if(sends.begin(), sends.end(), [](const record& r) {
    return !r.items.empty() && r.items.front().rfind("6", 0) == 0;
  });
  REQUIRE(ack != sends.end());
  CHECK(ack->items
        == std::vector<std::string>{"61-9[\"ok\",{\"_placeholder\":true,\"num\":0}]", "<binary>"});
}

TEST_CASE("socket: an ack handle kept after the handler answers from another thread",
          "[ack][socket]") {
  server_fixture f;
  handoff<ack_handle> kept;
  auto keep = kept.callback();
  f.io.on_connection([keep](sio::socket& s) {
    s.on("later", [keep](sio::socket&, sio::event& ev) { keep(ev.ack); });
  });
  REQUIRE(f.connect("s1"));
  f.from_client("s1", server_fixture::make_packet(packet_type::event, 7, json::array({"later"})));
  auto handle = kept.get();
  REQUIRE(handle);
  CHECK(handle->requested());
  // Called here, on the test thread, not in the socket's actor.
  (*handle)("late");
  (*handle)("twice");
  CHECK_FALSE(handle->requested());
  auto ack = f.wait_packet("s1", packet_type::ack);
  REQUIRE(ack);
  CHECK(ack->id == std::optional<std::uint64_t>{7});
  CHECK(ack->data == json::array({"late"}));
  CHECK(count_type(f.packets_to("s1"), packet_type::ack) == 1);
}

// -- the server asks one client ------------------------------------------------

TEST_CASE("socket: emit_with_ack gets the client's answer", "[ack][socket]") {
  server_fixture f;
  handoff<ack_result> result;
  auto done = result.callback();
  f.io.on_connection([done](sio::socket& s) {
    s.emit_with_ack("question", json::array({1}), 2s, done);
  });
  REQUIRE(f.connect("s1"));
  auto id = ack_id_of(f, "s1", "question");
  REQUIRE(id);
  auto asked = f.wait_packet("s1", packet_type::event, "question");
  CHECK(asked->data == json::array({"question", 1}));

  // An answer to some other id is ignored.
  f.from_client("s1", server_fixture::make_packet(packet_type::ack, *id + 100, json::array({"no"})));
  f.from_client("s1", server_fixture::make_packet(packet_type::ack, *id, json::array({"a", 2})));
  f.from_client("s1", server_fixture::make_packet(packet_type::ack, *id, json::array({"dup"})));
  auto r = result.get();
  REQUIRE(r);
  CHECK(r->ok());
  CHECK(r->args == json::array({"a", 2}));
  REQUIRE(f.ping(f.sockets["s1"])); // the duplicate was handled too
  CHECK(result.calls() == 1);
}

TEST_CASE("socket: emit_with_ack times out without an answer", "[ack][socket]") {
  server_fixture f;
  handoff<ack_result> result;
  auto done = result.callback();
  f.io.on_connection([done](sio::socket& s) {
    s.emit_with_ack("question", json::array(), 100ms, done);
  });
  auto start = std::chrono::steady_clock::now();
  REQUIRE(f.connect("s1"));
  auto id = ack_id_of(f, "s1", "question");
  REQUIRE(id);
  auto r = result.get();
  REQUIRE(r);
  CHECK(std::chrono::steady_clock::now() - start >= 100ms);
  CHECK_FALSE(r->ok());
  CHECK(r->error == "operation has timed out");
  CHECK(r->args == json::array());
  // A late answer is ignored.
  f.from_client("s1", server_fixture::make_packet(packet_type::ack, *id, json::array({"late"})));
  REQUIRE(f.ping(f.sockets["s1"]));
  CHECK(result.calls() == 1);
}

TEST_CASE("socket: emit_with_ack fails when the socket disconnects", "[ack][socket]") {
  server_fixture f;
  handoff<ack_result> result;
  auto done = result.callback();
  f.io.on_connection([done](sio::socket& s) {
    s.emit_with_ack("question", json::array(), 10s, done);
  });
  REQUIRE(f.connect("s1"));
  REQUIRE(ack_id_of(f, "s1", "question"));
  SECTION("the transport closes") {
    f.self->send(f.sockets["s1"], engine_closed_atom::value, std::string{"transport close"});
  }
  SECTION("the client leaves the namespace") {
    f.from_client("s1", server_fixture::make_packet(packet_type::disconnect, {}, {}));
  }
  auto r = result.get(); // long before the 10 s timeout
  REQUIRE(r);
  CHECK_FALSE(r->ok());
  CHECK(r->error == "socket has been disconnected");
}

TEST_CASE("socket_ref: emit_with_ack from outside the socket's actor", "[ack][socket]") {
  server_fixture f;
  handoff<sio::socket_ref> kept;
  auto keep = kept.callback();
  f.io.on_connection([keep](sio::socket& s) { keep(s.ref()); });
  REQUIRE(f.connect("s1"));
  auto ref = kept.get();
  REQUIRE(ref);
  handoff<ack_result> result;

  SECTION("the client answers") {
    ref->emit_with_ack("question", json::array({1, "two"}), 10s, result.callback());
    auto asked = f.wait_packet("s1", packet_type::event, "question");
    REQUIRE(asked);
    REQUIRE(asked->id);
    CHECK(asked->data == json::array({"question", 1, "two"}));
    f.from_client("s1",
                  server_fixture::make_packet(packet_type::ack, *asked->id, json::array({"a", 2})));
    auto r = result.get();
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(r->args == json::array({"a", 2}));
  }
  SECTION("the socket's own timer") {
    ref->emit_with_ack("question", json::array(), 50ms, result.callback());
    auto r = result.get(); // long before the request's backstop
    REQUIRE(r);
    CHECK(r->error == "operation has timed out");
  }
  SECTION("the socket leaves, then is gone") {
    ref->emit_with_ack("question", json::array(), 10s, result.callback());
    REQUIRE(ack_id_of(f, "s1", "question"));
    f.from_client("s1", server_fixture::make_packet(packet_type::disconnect, {}, {}));
    auto r = result.get();
    REQUIRE(r);
    CHECK(r->error == "socket has been disconnected");
    handoff<ack_result> after;
    ref->emit_with_ack("question", json::array(), 10s, after.callback());
    auto r2 = after.get();
    REQUIRE(r2);
    CHECK(r2->error == "socket has been disconnected");
  }
  SECTION("an empty ref") {
    sio::socket_ref{}.emit_with_ack("question", json::array(), 10s, result.callback());
    auto r = result.get(0ms);
    REQUIRE(r);
    CHECK(r->error == "socket has been disconnected");
  }
}

// -- the server asks many clients --------------------------------------------------

TEST_CASE("socket: a broadcast with ack through socket actors", "[ack][socket]") {
  server_fixture f;
  REQUIRE(f.connect("s1"));
  REQUIRE(f.connect("s2"));
  REQUIRE(f.connect("s3"));
  f.self->send(f.sockets["s3"], join_atom::value, std::vector<std::string>{"quiet"});
  REQUIRE(f.ping(f.sockets["s3"]));
  REQUIRE(f.select(target({"quiet"})) == std::multiset<std::string>{"s3"});

  handoff<broadcast_ack_result> result;
  auto answer = [&](const std::string& sid, std::uint64_t id) {
    f.from_client(sid,
                  server_fixture::make_packet(packet_type::ack, id, json::array({sid, "more"})));
  };
  // Each response is the first argument of a client's ack (its id here).
  auto responders = [](const broadcast_ack_result& r) {
    std::multiset<std::string> out;
    for (auto& a : r.responses)
      out.insert(a.is_string() ? a.get<std::string>() : a.dump());
    return out;
  };

  SECTION("everyone answers") {
    f.io.of("/").all().except("quiet").emit_with_ack("poll", json::array({"?"}),
                                                     result.callback());
    auto id1 = ack_id_of(f, "s1", "poll");
    auto id2 = ack_id_of(f, "s2", "poll");
    REQUIRE(id1);
    REQUIRE(id2);
    CHECK(*id1 == *id2); // one id per broadcast
    answer("s2", *id2);
    answer("s1", *id1);
    auto r = result.get();
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(responders(*r) == std::multiset<std::string>{"s1", "s2"});
    REQUIRE(f.ping(f.sessions["s3"]));
    CHECK_FALSE(find_packet(f.log->snapshot(), "s3", packet_type::event, "poll"));
  }
  SECTION("a socket that disconnects counts as no answer") {
    f.io.of("/").all().except("quiet").timeout(10s).emit_with_ack("poll", json::array(),
                                                                  result.callback());
    auto id1 = ack_id_of(f, "s1", "poll");
    REQUIRE(id1);
    REQUIRE(ack_id_of(f, "s2", "poll"));
    answer("s1", *id1);
    f.self->send(f.sockets["s2"], engine_closed_atom::value, std::string{"transport close"});
    auto r = result.get(); // long before the 10 s timeout
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(responders(*r) == std::multiset<std::string>{"s1"});
  }
  SECTION("a socket that does not answer makes it time out") {
    auto start = std::chrono::steady_clock::now();
    f.io.of("/").all().timeout(300ms).emit_with_ack("poll", json::array(), result.callback());
    auto id1 = ack_id_of(f, "s1", "poll");
    REQUIRE(id1);
    answer("s1", *id1);
    auto r = result.get();
    REQUIRE(r);
    auto elapsed = std::chrono::steady_clock::now() - start;
    INFO("elapsed ms: " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
    CHECK(elapsed >= 290ms); // the time left is passed on in whole milliseconds
    CHECK(r->error == "operation has timed out");
    CHECK(responders(*r) == std::multiset<std::string>{"s1"});
    // The late answers are dropped by the sockets, and nothing more arrives.
    for (auto sid : {"s2", "s3"})
      if (auto id = ack_id_of(f, sid, "poll"))
        answer(sid, *id);
    for (auto sid : {"s2", "s3"})
      REQUIRE(f.ping(f.sockets[sid]));
    CHECK(result.calls() == 1);
  }
}
