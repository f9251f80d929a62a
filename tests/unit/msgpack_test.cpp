// The msgpack parser (socket.io-msgpack-parser's wire format): encode_msgpack,
// the decoder in wire_format::msgpack, the shape scan that guards nlohmann's
// MessagePack reader, and linear work for wide maps (counted, not timed).
// The npm parser itself talks to the server in tests/integration/msgpack.test.js.
#include <catch2/catch.hpp>

#include <string>

#include "socketio/json_parse.hpp"
#include "socketio/msgpack_scan.hpp"
#include "socketio/packet.hpp"
#include "socketio/wire.hpp"

using namespace sio::socketio;
using namespace std::string_literals;
using sio::json;

namespace {

std::string msgpack_of(const json& v) {
  std::string out;
  json::to_msgpack(v, out);
  return out;
}

decoder::status feed(decoder& d, const std::string& bytes) {
  return d.feed_binary(bytes);
}

} // namespace

TEST_CASE("msgpack: a packet survives encode and decode, binary values included", "[msgpack]") {
  packet p;
  p.type = packet_type::event;
  p.nsp = "/chat";
  p.id = 42;
  p.data = json::array({"msg", 1, -2, 3.5, true, nullptr, json{{"a", json::array({1, 2})}},
                        json::binary({1, 2, 255})});
  auto bytes = encode_msgpack(p);
  // One map: {type, nsp, data, id}, the keys as socket.io-msgpack-parser writes them.
  auto as_json = json::from_msgpack(bytes);
  CHECK(as_json["type"] == 2);
  CHECK(as_json["nsp"] == "/chat");
  CHECK(as_json["id"] == 42);
  decoder d{{}, sio::wire_format::msgpack};
  REQUIRE(feed(d, bytes) == decoder::status::complete);
  auto q = d.take();
  CHECK(q.type == packet_type::event);
  CHECK(q.nsp == "/chat");
  CHECK(q.id == std::optional<std::uint64_t>{42});
  CHECK(q.data == p.data);
  // Binary needs no attachments here: one Engine.IO binary message.
  auto engine = to_engine_packets(sio::wire_format::msgpack, p);
  REQUIRE(engine.size() == 1);
  CHECK(engine[0]->is_binary());
}

TEST_CASE("msgpack: what socket.io-msgpack-parser's checkPacket refuses is refused", "[msgpack]") {
  auto refused = [](const std::string& bytes) {
    decoder d{{}, sio::wire_format::msgpack};
    auto st = feed(d, bytes);
    INFO(d.error());
    return st == decoder::status::error && !d.error().empty();
  };
  CHECK(refused(msgpack_of(json::array({0, "/"}))));                             // not a map
  CHECK(refused(msgpack_of(json{{"type", 5}, {"nsp", "/"}, {"data", json::array({"x"})}}))); // BINARY_EVENT
  CHECK(refused(msgpack_of(json{{"type", -1}, {"nsp", "/"}})));
  CHECK(refused(msgpack_of(json{{"type", "2"}, {"nsp", "/"}, {"data", json::array({"x"})}})));
  CHECK(refused(msgpack_of(json{{"type", 0}, {"nsp", 7}})));
  CHECK(refused(msgpack_of(json{{"type", 2}, {"nsp", "/"}})));                    // EVENT without data
  CHECK(refused(msgpack_of(json{{"type", 2}, {"nsp", "/"}, {"data", "x"}})));     // data not an array
  CHECK(refused(msgpack_of(json{{"type", 1}, {"nsp", "/"}, {"data", json::array()}})));
  CHECK(refused(msgpack_of(json{{"type", 0}, {"nsp", "/"}, {"data", "tok"}})));   // auth not an object
  CHECK(refused(msgpack_of(json{{"type", 3}, {"nsp", "/"}, {"data", json::array()}, {"id", -1}})));
  CHECK(refused(msgpack_of(json{{"type", 3}, {"nsp", "/"}, {"data", json::array()}, {"id", 1.5}})));
  // The default parser's text packet on a msgpack server.
  decoder d{{}, sio::wire_format::msgpack};
  CHECK(d.feed_text("40") == decoder::status::error);
}

TEST_CASE("msgpack: a CONNECT without auth, and notepack's undefined, are accepted", "[msgpack]") {
  decoder d{{}, sio::wire_format::msgpack};
  REQUIRE(feed(d, msgpack_of(json{{"type", 0}, {"nsp", "/"}})) == decoder::status::complete);
  CHECK(!d.take().data);
  // {type: 0, nsp: "/", data: undefined}: notepack writes undefined as fixext 1 (d4 00 00).
  auto undef = "\x83\xa4type\x00\xa3nsp\xa1/\xa4" "data\xd4\x00\x00"s;
  REQUIRE(feed(d, undef) == decoder::status::complete);
  CHECK(!d.take().data);
  // An extension inside an event's arguments becomes null, as JSON.stringify writes undefined.
  auto ev = "\x83\xa4type\x02\xa3nsp\xa1/\xa4" "data\x92\xa1x\xd4\x00\x00"s;
  REQUIRE(feed(d, ev) == decoder::status::complete);
  CHECK(d.take().data == json::array({"x", nullptr}));
}

TEST_CASE("msgpack: the shape scan refuses what would hurt nlohmann's reader", "[msgpack]") {
  std::string why;
  CHECK(msgpack_shape_ok(msgpack_of(json{{"a", json::array({1, "two", 3.0})}}), 100, why));
  std::string deep(5000, '\x91');
  deep += '\xc0';
  CHECK_FALSE(msgpack_shape_ok(deep, 100, why));
  CHECK(why.find("deep") != std::string::npos);
  CHECK_FALSE(msgpack_shape_ok(std::string{"\xdb\xff\xff\xff\xff\x41", 6}, 100, why)); // 4 GiB str
  CHECK_FALSE(msgpack_shape_ok(std::string{"\xdd\xff\xff\xff\xff\xc0", 6}, 100, why)); // 4 G items
  CHECK_FALSE(msgpack_shape_ok(std::string{"\xc1", 1}, 100, why));
  CHECK_FALSE(msgpack_shape_ok(std::string{"\xc0\xc0", 2}, 100, why)); // bytes after the value
  CHECK_FALSE(msgpack_shape_ok(std::string{"\x92\xc0", 2}, 100, why)); // truncated
  // The decoder runs the scan: a packet nested past max_depth is an error, not a crash.
  decoder_limits limits;
  limits.max_depth = 10;
  decoder d{limits, sio::wire_format::msgpack};
  std::string nested = "\x83\xa4type\x02\xa3nsp\xa1/\xa4" "data";
  nested += std::string(50, '\x91') + '\xc0';
  CHECK(feed(d, nested) == decoder::status::error);
}

TEST_CASE("msgpack: a wide map costs linear work, and the limits hold", "[msgpack]") {
  auto wide = [](std::size_t n) {
    json o = json::object();
    for (std::size_t i = 0; i < n; ++i)
      o["key" + std::to_string(i)] = i;
    return msgpack_of(o);
  };
  std::string err;
  json_parse_stats small, large;
  REQUIRE(parse_msgpack(wide(1000), json_limits{0, 0}, err, &small));
  REQUIRE(parse_msgpack(wide(10000), json_limits{0, 0}, err, &large));
  // Ten times the members, about ten times the key probes (quadratic would be 100x).
  CHECK(large.key_probes < 15 * small.key_probes);
  CHECK_FALSE(parse_msgpack(wide(200), json_limits{100, 0}, err));
  CHECK(err.find("members") != std::string::npos);
  CHECK_FALSE(parse_msgpack(wide(200), json_limits{0, 50}, err));
}
