// Socket.IO v5 packet codec; expected strings come from the protocol docs
// and from Node's socket.io-parser v4.2.
#include "socketio/packet.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sio::socketio;
using sio::json;
using namespace std::string_literals;

namespace {

json bin(std::string_view bytes) {
  return json::binary(json::binary_t::container_type(bytes.begin(), bytes.end()));
}

packet make(packet_type type, std::string nsp, std::optional<json> data = std::nullopt,
            std::optional<std::uint64_t> id = std::nullopt) {
  packet p;
  p.type = type;
  p.nsp = std::move(nsp);
  p.data = std::move(data);
  p.id = id;
  return p;
}

std::string encode_text(const packet& p) {
  auto e = encode(p);
  CHECK(e.attachments.empty());
  return e.text;
}

// Feeds one text frame and expects a complete packet.
packet decode_one(std::string_view text, decoder_limits limits = {}) {
  decoder d{limits};
  auto st = d.feed_text(text);
  INFO(text << " -> " << d.error());
  REQUIRE(st == decoder::status::complete);
  CHECK_FALSE(d.reconstructing());
  return d.take();
}

// Feeds one text frame and expects an error.
std::string decode_error(std::string_view text, decoder_limits limits = {}) {
  decoder d{limits};
  decoder::status st = decoder::status::complete;
  CHECK_NOTHROW(st = d.feed_text(text));
  INFO(text);
  CHECK(st == decoder::status::error);
  CHECK_FALSE(d.error().empty());
  CHECK_FALSE(d.reconstructing());
  return d.error();
}

} // namespace

TEST_CASE("socketio: encode matches the protocol docs (connection)", "[socketio]") {
  CHECK(encode_text(make(packet_type::connect, "/")) == "0");
  CHECK(encode_text(make(packet_type::connect, "/", json{{"sid", "wZX3oN0bSVIhsaknAAAI"}}))
        == R"(0{"sid":"wZX3oN0bSVIhsaknAAAI"})");
  CHECK(encode_text(make(packet_type::connect, "/admin")) == "0/admin,");
  CHECK(encode_text(make(packet_type::connect, "/admin", json{{"sid", "oSO0OpakMV_3jnilAAAA"}}))
        == R"(0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"})");
  CHECK(encode_text(make(packet_type::connect_error, "/", json{{"message", "Not authorized"}}))
        == R"(4{"message":"Not authorized"})");
  CHECK(encode_text(make(packet_type::connect_error, "/admin", json("nope")))
        == R"(4/admin,"nope")");
  CHECK(encode_text(make(packet_type::disconnect, "/")) == "1");
  CHECK(encode_text(make(packet_type::disconnect, "/admin")) == "1/admin,");
}

TEST_CASE("socketio: encode matches the protocol docs (events and acks)", "[socketio]") {
  CHECK(encode_text(make(packet_type::event, "/", json{"foo"})) == R"(2["foo"])");
  CHECK(encode_text(make(packet_type::event, "/admin", json{"bar"})) == R"(2/admin,["bar"])");
  CHECK(encode_text(make(packet_type::event, "/", json{"foo"}, 12)) == R"(212["foo"])");
  CHECK(encode_text(make(packet_type::ack, "/", json::array(), 12)) == "312[]");
  CHECK(encode_text(make(packet_type::event, "/admin", json{"foo"}, 13)) == R"(2/admin,13["foo"])");
  CHECK(encode_text(make(packet_type::ack, "/admin", json{"bar"}, 13)) == R"(3/admin,13["bar"])");
  CHECK(encode_text(make(packet_type::ack, "/", json{"bar"}, 14)) == R"(314["bar"])");
  CHECK(encode_text(make(packet_type::event, "/", json{"x"}, 0)) == R"(20["x"])");
  CHECK(encode_text(make(packet_type::event, "/", json{"x"}, 18446744073709551615ull))
        == R"(218446744073709551615["x"])");
  // An empty nsp is treated as the main namespace, as Node does.
  CHECK(encode_text(make(packet_type::event, "", json{"a"})) == R"(2["a"])");
}

TEST_CASE("socketio: encode with binary data uses placeholders", "[socketio][binary]") {
  auto e = encode(make(packet_type::event, "/", json{"baz", bin("\x01\x02\x03\x04")}));
  CHECK(e.text == R"(51-["baz",{"_placeholder":true,"num":0}])");
  REQUIRE(e.attachments.size() == 1);
  CHECK(e.attachments[0] == "\x01\x02\x03\x04");

  e = encode(make(packet_type::event, "/admin", json{"baz", bin("\x01\x02"), bin("\x03\x04")}));
  CHECK(e.text
        == R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  REQUIRE(e.attachments.size() == 2);
  CHECK(e.attachments[0] == "\x01\x02");
  CHECK(e.attachments[1] == "\x03\x04");

  e = encode(make(packet_type::event, "/", json{"foo", bin("\x01\x02\x03\x04")}, 14));
  CHECK(e.text == R"(51-14["foo",{"_placeholder":true,"num":0}])");

  e = encode(make(packet_type::ack, "/", json{"bar", bin("\x01\x02\x03\x04")}, 15));
  CHECK(e.text == R"(61-15["bar",{"_placeholder":true,"num":0}])");
  REQUIRE(e.attachments.size() == 1);
}

TEST_CASE("socketio: binary attachments are collected depth-first", "[socketio][binary]") {
  // Node: encode({type: EVENT, nsp: "/admin", id: 7,
  //               data: ["a", <01>, {x: [<02>], y: <03>}]})
  json data = json::array();
  data.push_back("a");
  data.push_back(bin("\x01"));
  json obj = json::object();
  obj["x"] = json::array({bin("\x02")});
  obj["y"] = bin("\x03");
  data.push_back(obj);
  auto e = encode(make(packet_type::event, "/admin", data, 7));
  CHECK(e.text == R"(53-/admin,7["a",{"_placeholder":true,"num":0},)"
                  R"({"x":[{"_placeholder":true,"num":1}],"y":{"_placeholder":true,"num":2}}])");
  REQUIRE(e.attachments.size() == 3);
  CHECK(e.attachments[0] == "\x01");
  CHECK(e.attachments[1] == "\x02");
  CHECK(e.attachments[2] == "\x03");

  // Node: encode({type: ACK, nsp: "/admin", id: 5, data: [{a: <01>}, [<02>, <>]]})
  json ack = json::array();
  ack.push_back(json{{"a", bin("\x01")}});
  ack.push_back(json::array({bin("\x02"), bin("")}));
  e = encode(make(packet_type::ack, "/admin", ack, 5));
  CHECK(e.text == R"(63-/admin,5[{"a":{"_placeholder":true,"num":0}},)"
                  R"([{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]])");
  REQUIRE(e.attachments.size() == 3);
  CHECK(e.attachments[2].empty());
}

TEST_CASE("socketio: encode never announces zero attachments", "[socketio][binary]") {
  // socket.io-parser rejects "50-", so a BINARY_* type without binary data
  // is sent as plain EVENT/ACK.
  CHECK(encode_text(make(packet_type::binary_event, "/", json{"a"})) == R"(2["a"])");
  CHECK(encode_text(make(packet_type::binary_ack, "/", json{"a"}, 3)) == R"(33["a"])");
  auto e = encode(make(packet_type::binary_event, "/", json{"a", bin("z")}));
  CHECK(e.text == R"(51-["a",{"_placeholder":true,"num":0}])");
}

TEST_CASE("socketio: binary outside EVENT/ACK is written like a JSON.stringify'd Buffer",
          "[socketio][binary]") {
  // Node: encode({type: CONNECT_ERROR, data: {message: "m", data: <01 02>}})
  json data = json::object();
  data["message"] = "m";
  data["data"] = bin("\x01\x02");
  CHECK(encode_text(make(packet_type::connect_error, "/", data))
        == R"(4{"message":"m","data":{"type":"Buffer","data":[1,2]}})");
}

TEST_CASE("socketio: null data is omitted like undefined", "[socketio]") {
  CHECK(encode_text(make(packet_type::connect, "/admin", json(nullptr))) == "0/admin,");
}

TEST_CASE("socketio: dump_json writes JSON like JSON.stringify", "[socketio][json]") {
  // Key order is kept, output is compact, non-ASCII stays raw UTF-8, and
  // only control characters are escaped (Node: JSON.stringify).
  json obj = json::object();
  obj["b"] = 1;
  obj["a"] = 2;
  obj["\xC3\xA9"] = "\xE2\x80\xA8";
  CHECK(dump_json(json{"x", obj}) == "[\"x\",{\"b\":1,\"a\":2,\"\xC3\xA9\":\"\xE2\x80\xA8\"}]");
  CHECK(dump_json(json("\xC3\xA9\x01\x1f\x7f/\"\\\n\t")) == "\"\xC3\xA9\\u0001\\u001f\x7f/\\\"\\\\\\n\\t\"");
  CHECK(dump_json(json::array({1, -2, 0.1, 1.5, true, false, nullptr})) == "[1,-2,0.1,1.5,true,false,null]");
  CHECK(dump_json(json::object()) == "{}");
  CHECK(dump_json(json::array()) == "[]");
  CHECK(dump_json(json(nullptr)) == "null");
  CHECK(dump_json(json::parse(R"({"z":{"y":[1,{"x":"w"}]},"a":""})")) == R"({"z":{"y":[1,{"x":"w"}]},"a":""})");
}

TEST_CASE("socketio: invalid UTF-8 is replaced on encode, never thrown", "[socketio][json]") {
  const std::string replacement = "\xEF\xBF\xBD";
  std::string out;
  CHECK_NOTHROW(out = dump_json(json("a\xff" "b")));
  CHECK(out == "\"a" + replacement + "b\"");

  json data = json::array({"ev", "\xC3", json{{"k\xfe", "\xED\xA0\x80"}}});
  encoded_packet e;
  CHECK_NOTHROW(e = encode(make(packet_type::event, "/", data)));
  CHECK(e.text.rfind("2[\"ev\",\"", 0) == 0);
  CHECK(e.text.find(replacement) != std::string::npos);
  CHECK(e.text.find('\xff') == std::string::npos);
  CHECK(e.text.find('\xfe') == std::string::npos);
  // The result is valid JSON again.
  CHECK_FALSE(json::parse(e.text.substr(1), nullptr, false).is_discarded());
}

TEST_CASE("socketio: decode the protocol docs examples", "[socketio][decode]") {
  auto p = decode_one("0");
  CHECK(p.type == packet_type::connect);
  CHECK(p.nsp == "/");
  CHECK_FALSE(p.data);
  CHECK_FALSE(p.id);

  p = decode_one("0/admin,");
  CHECK(p.type == packet_type::connect);
  CHECK(p.nsp == "/admin");
  CHECK_FALSE(p.data);

  p = decode_one(R"(0/admin,{"token":"123"})");
  CHECK(p.nsp == "/admin");
  REQUIRE(p.data);
  CHECK(*p.data == json{{"token", "123"}});

  p = decode_one(R"(4{"message":"Not authorized"})");
  CHECK(p.type == packet_type::connect_error);
  CHECK((*p.data)["message"] == "Not authorized");

  p = decode_one(R"(4"str")");
  CHECK(*p.data == "str");

  p = decode_one(R"(2["foo"])");
  CHECK(p.type == packet_type::event);
  CHECK(p.nsp == "/");
  CHECK(*p.data == json{"foo"});

  p = decode_one(R"(2/admin,["bar"])");
  CHECK(p.nsp == "/admin");
  CHECK(*p.data == json{"bar"});

  p = decode_one(R"(212["foo"])");
  CHECK(p.id == 12u);
  CHECK(*p.data == json{"foo"});

  p = decode_one("312[]");
  CHECK(p.type == packet_type::ack);
  CHECK(p.id == 12u);
  CHECK(*p.data == json::array());

  p = decode_one(R"(3/admin,13["bar"])");
  CHECK(p.type == packet_type::ack);
  CHECK(p.nsp == "/admin");
  CHECK(p.id == 13u);

  p = decode_one("1");
  CHECK(p.type == packet_type::disconnect);
  p = decode_one("1/admin,");
  CHECK(p.type == packet_type::disconnect);
  CHECK(p.nsp == "/admin");

  p = decode_one("2[1,2]");
  CHECK(*p.data == json{1, 2});
}

TEST_CASE("socketio: decode namespaces with and without trailing comma", "[socketio][decode]") {
  // Node reads the namespace up to ',' or the end of the packet.
  auto p = decode_one("2/admin");
  CHECK(p.nsp == "/admin");
  CHECK_FALSE(p.data);

  p = decode_one("3/admin,");
  CHECK(p.type == packet_type::ack);
  CHECK(p.nsp == "/admin");
  CHECK_FALSE(p.data);

  p = decode_one("1/admin");
  CHECK(p.type == packet_type::disconnect);
  CHECK(p.nsp == "/admin");

  p = decode_one(R"(2/a/b-c_d,7["x"])");
  CHECK(p.nsp == "/a/b-c_d");
  CHECK(p.id == 7u);

  // Without the comma, what follows belongs to the namespace (as in Node).
  p = decode_one(R"(2/admin["a"])");
  CHECK(p.nsp == R"(/admin["a"])");
  CHECK_FALSE(p.data);

  p = decode_one(R"(2/,["a"])");
  CHECK(p.nsp == "/");
  CHECK(*p.data == json{"a"});
}

TEST_CASE("socketio: decode keeps key order and unicode", "[socketio][decode]") {
  auto p = decode_one("2[\"ev\",{\"z\":1,\"a\":2,\"m\":\"\xC3\xA9\\u00e9\\ud83d\\ude00\"}]");
  REQUIRE(p.data);
  CHECK(dump_json(*p.data) == "[\"ev\",{\"z\":1,\"a\":2,\"m\":\"\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80\"}]");
  // Leading/trailing whitespace is allowed by JSON.parse.
  p = decode_one("2[\"a\"] ");
  CHECK(*p.data == json{"a"});
}

TEST_CASE("socketio: ack ids up to uint64 max", "[socketio][decode]") {
  auto p = decode_one(R"(20["a"])");
  CHECK(p.id == 0u);
  p = decode_one(R"(218446744073709551615["a"])");
  CHECK(p.id == 18446744073709551615ull);
  p = decode_one(R"(2/admin,007["a"])");
  CHECK(p.id == 7u);
}

TEST_CASE("socketio: decode binary event with attachments", "[socketio][binary][decode]") {
  decoder d;
  REQUIRE(d.feed_text(R"(52-/admin,9["baz",{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}])")
          == decoder::status::need_binary);
  CHECK(d.reconstructing());
  REQUIRE(d.feed_binary("\x01\x02") == decoder::status::need_binary);
  CHECK(d.reconstructing());
  REQUIRE(d.feed_binary("\x00\x04"s) == decoder::status::complete);
  CHECK_FALSE(d.reconstructing());
  auto p = d.take();
  // As in Node, the reassembled packet is a plain EVENT.
  CHECK(p.type == packet_type::event);
  CHECK(p.nsp == "/admin");
  CHECK(p.id == 9u);
  REQUIRE(p.data);
  CHECK((*p.data)[0] == "baz");
  CHECK((*p.data)[1] == bin("\x01\x02"));
  CHECK((*p.data)[2]["k"] == bin("\x00\x04"s));

  // The decoder is ready for the next packet.
  REQUIRE(d.feed_text(R"(2["next"])") == decoder::status::complete);
  CHECK(*d.take().data == json{"next"});
}

TEST_CASE("socketio: decode binary ack", "[socketio][binary][decode]") {
  decoder d;
  REQUIRE(d.feed_text(R"(61-15["bar",{"_placeholder":true,"num":0}])") == decoder::status::need_binary);
  REQUIRE(d.feed_binary("\x01\x02\x03\x04") == decoder::status::complete);
  auto p = d.take();
  CHECK(p.type == packet_type::ack);
  CHECK(p.id == 15u);
  CHECK(*p.data == json{"bar", bin("\x01\x02\x03\x04")});
}

TEST_CASE("socketio: the same placeholder may be used twice, extra buffers are ignored",
          "[socketio][binary][decode]") {
  // Node's reconstructPacket only indexes the buffer list.
  decoder d;
  REQUIRE(d.feed_text(R"(52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}])")
          == decoder::status::need_binary);
  REQUIRE(d.feed_binary("x") == decoder::status::need_binary);
  REQUIRE(d.feed_binary("y") == decoder::status::complete);
  CHECK(*d.take().data == json{"a", bin("x"), bin("x")});

  // {"_placeholder": false} is an ordinary object.
  REQUIRE(d.feed_text(R"(51-["a",{"_placeholder":false},{"_placeholder":true,"num":0}])")
          == decoder::status::need_binary);
  REQUIRE(d.feed_binary("z") == decoder::status::complete);
  auto p = d.take();
  CHECK((*p.data)[1] == json{{"_placeholder", false}});
  CHECK((*p.data)[2] == bin("z"));
}

TEST_CASE("socketio: placeholders cannot multiply an attachment's bytes",
          "[socketio][binary][decode][malformed]") {
  // Found by tests/fuzz/fuzz_socketio_decoder (tests/fuzz/crashes/): each
  // placeholder gets its own copy, so repeating one number turned a 1 MB
  // attachment into gigabytes. The copies may add up to what was sent.
  decoder d;
  REQUIRE(d.feed_text(R"(51-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}])")
          == decoder::status::need_binary);
  CHECK(d.feed_binary("\x01\x02\x03\x04") == decoder::status::error);
  CHECK(d.error() == "illegal attachments");
  CHECK_FALSE(d.reconstructing());

  // Empty attachments cost nothing to repeat.
  REQUIRE(d.feed_text(R"(51-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}])")
          == decoder::status::need_binary);
  REQUIRE(d.feed_binary("") == decoder::status::complete);
  CHECK(*d.take().data == json{"a", bin(""), bin("")});
}

TEST_CASE("socketio: encode/decode round trips", "[socketio][roundtrip]") {
  json nested = json::object();
  nested["list"] = json::array({1, "two", 3.5, nullptr, true, json::object()});
  nested["blob"] = bin("\x00\xff\x7f"s);
  nested["unicode"] = "\xE6\x97\xA5\xE6\x9C\xAC";
  std::vector<packet> packets = {
    make(packet_type::connect, "/"),
    make(packet_type::connect, "/admin", json{{"token", "123"}}),
    make(packet_type::disconnect, "/admin"),
    make(packet_type::event, "/", json{"hello", "world"}),
    make(packet_type::event, "/chat", json{"msg", nested}, 42),
    make(packet_type::event, "/", json{7, bin(""), bin("a")}),
    make(packet_type::ack, "/x", json::array(), 1),
    make(packet_type::ack, "/", json::array({bin("\x01")}), 2),
    make(packet_type::connect_error, "/", json{{"message", "no"}, {"data", {{"code", 3}}}}),
  };
  for (const auto& original : packets) {
    auto e = encode(original);
    INFO(e.text);
    decoder d;
    auto st = d.feed_text(e.text);
    for (const auto& a : e.attachments) {
      REQUIRE(st == decoder::status::need_binary);
      st = d.feed_binary(a);
    }
    REQUIRE(st == decoder::status::complete);
    auto p = d.take();
    CHECK(p.type == original.type);
    CHECK(p.nsp == original.nsp);
    CHECK(p.id == original.id);
    CHECK(p.data == original.data);
    CHECK(encode(p).text == e.text);
  }
}

TEST_CASE("socketio: reject empty input and unknown types", "[socketio][malformed]") {
  decode_error("");
  for (std::string text : {"7"s, "8[\"a\"]"s, "9"s, "a"s, "-1"s, " 2[\"a\"]"s, "/admin,[\"a\"]"s, "\x00"s})
    decode_error(text);
}

TEST_CASE("socketio: reject bad attachment counts", "[socketio][malformed][binary]") {
  for (std::string text : {
         R"(5["a",{"_placeholder":true,"num":0}])",   // no '-'
         R"(5-["a"])",                                  // empty count
         R"(50-["a"])",                                 // zero attachments (Node: illegal)
         R"(6x-["a"])",                                 // not a number
         R"(51x-["a"])",
         R"(5 1-["a"])",
         R"(5-1-["a"])",
         "5",
         "51",
         R"(599999999999999999999999-["a"])",           // overflow
       })
    decode_error(text);
}

TEST_CASE("socketio: reject too many attachments", "[socketio][malformed][binary]") {
  CHECK(decode_error(R"(511-["a"])") == "too many attachments");
  decoder_limits limits;
  limits.max_attachments = 2;
  decode_error(R"(53-["a"])", limits);
  decoder d{limits};
  CHECK(d.feed_text(R"(52-["a",{"_placeholder":true,"num":1}])") == decoder::status::need_binary);
  // The default limit accepts ten.
  decoder d10;
  CHECK(d10.feed_text(R"(510-["a"])") == decoder::status::need_binary);
}

TEST_CASE("socketio: reject payloads of the wrong shape", "[socketio][malformed]") {
  for (std::string text : {
         "0[]", R"(0"x")", "0null", "07[]",              // CONNECT needs an object
         "1{}", "1[]", R"(1/admin,{})",                 // DISCONNECT takes no payload
         "4[]", "41[]", "4null", "4true",               // CONNECT_ERROR string or object
         R"(2{})", R"(2"ev")", "2[]", "2[[]]", "2[null]", "2[true]", R"(2[{"a":1}])",
         R"(3{})", R"(312"x")", "3null",                // ACK needs an array
         R"(51-{"_placeholder":true,"num":0})",         // BINARY_EVENT needs an array
         R"(61-"x")",
       })
    decode_error(text);
}

TEST_CASE("socketio: reject reserved event names", "[socketio][malformed]") {
  for (std::string name : {"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                           "removeListener"}) {
    decode_error("2[\"" + name + "\"]");
    decode_error("2/admin,1[\"" + name + "\",1]");
    decode_error("51-[\"" + name + "\",{\"_placeholder\":true,\"num\":0}]");
  }
  // Close relatives are ordinary events; numeric event names are allowed.
  CHECK(*decode_one(R"(2["Connect"])").data == json{"Connect"});
  CHECK(*decode_one(R"(2["connection"])").data == json{"connection"});
  CHECK(*decode_one(R"(2[42,"x"])").data == json{42, "x"});
}

TEST_CASE("socketio: reject bad JSON", "[socketio][malformed]") {
  for (std::string text : {
         R"(2["a")", R"(2["a"]])", R"(2["a",])", "2[undefined]", R"(2['a'])",
         R"(2["a"]x)", R"(2{"a":1)", "2/admin,[", R"(0{a:1})", R"(2["a\x"])",
         "2[\"\xff\"]", "2[\"a\"]\x1e" "2[\"b\"]", R"(2["a"] ["b"])",
         "2[1e999]", "2[NaN]", R"(2["a",/*c*/1])",
       })
    decode_error(text);
}

TEST_CASE("socketio: reject bad ack ids", "[socketio][malformed]") {
  decode_error(R"(218446744073709551616["a"])");                    // uint64 max + 1
  decode_error("2" + std::string(100, '9') + R"(["a"])");           // absurdly long
  decode_error(R"(2/admin,99999999999999999999999["a"])");
  decode_error(R"(21-2["a"])");                                     // '-' after the id is not JSON
}

TEST_CASE("socketio: depth bombs are refused before parsing", "[socketio][malformed]") {
  CHECK(decode_error("2" + std::string(100000, '[')) == "payload nested too deeply");
  decode_error("2" + std::string(100000, '[') + std::string(100000, ']'));
  decode_error(R"(0{"a":)" + std::string(5000, '{'));

  decoder_limits limits;
  limits.max_depth = 5;
  // Exactly max_depth levels is fine, one more is not.
  auto ok = "2[\"a\"," + std::string(4, '[') + std::string(4, ']') + "]";
  CHECK(decode_one(ok, limits).data->size() == 2);
  decode_error("2[\"a\"," + std::string(5, '[') + std::string(5, ']') + "]", limits);
  // Brackets inside strings (including after escaped quotes) do not count.
  auto in_string = "2[\"a\\\"" + std::string(50, '[') + "\",\"" + std::string(50, '{') + "\"]";
  CHECK(decode_one(in_string, limits).data->size() == 2);
  // Siblings do not add up.
  CHECK(decode_one("2[\"a\",[[[1]]],[[[2]]],{\"b\":[[3]]}]", limits).data->size() == 4);
}

TEST_CASE("socketio: text while reconstructing is an error", "[socketio][malformed][binary]") {
  decoder d;
  REQUIRE(d.feed_text(R"(51-["a",{"_placeholder":true,"num":0}])") == decoder::status::need_binary);
  CHECK(d.feed_text(R"(2["b"])") == decoder::status::error);
  CHECK_FALSE(d.error().empty());
  CHECK_FALSE(d.reconstructing());
  // After the error the decoder starts afresh.
  CHECK(d.feed_binary("x") == decoder::status::error);
  REQUIRE(d.feed_text(R"(2["c"])") == decoder::status::complete);
  CHECK(*d.take().data == json{"c"});
}

TEST_CASE("socketio: binary while not reconstructing is an error", "[socketio][malformed][binary]") {
  decoder d;
  CHECK(d.feed_binary("\x01\x02") == decoder::status::error);
  CHECK_FALSE(d.error().empty());
  REQUIRE(d.feed_text(R"(2["a"])") == decoder::status::complete);
  d.take();
  CHECK(d.feed_binary("") == decoder::status::error);
}

TEST_CASE("socketio: invalid placeholders are errors", "[socketio][malformed][binary]") {
  for (std::string text : {
         R"(51-["a",{"_placeholder":true,"num":1}])",     // out of range
         R"(51-["a",{"_placeholder":true,"num":-1}])",    // negative
         R"(51-["a",{"_placeholder":true}])",             // missing num
         R"(51-["a",{"_placeholder":true,"num":"0"}])",   // not a number
         R"(51-["a",{"_placeholder":true,"num":0.5}])",   // not an integer
         R"(51-["a",[{"_placeholder":true,"num":9}]])",   // nested
       }) {
    INFO(text);
    decoder d;
    REQUIRE(d.feed_text(text) == decoder::status::need_binary);
    CHECK(d.feed_binary("x") == decoder::status::error);
    CHECK(d.error() == "illegal attachments");
    CHECK_FALSE(d.reconstructing());
  }
}

TEST_CASE("socketio: binary packet without placeholders completes after its buffers",
          "[socketio][binary][decode]") {
  decoder d;
  REQUIRE(d.feed_text(R"(51-["a"])") == decoder::status::need_binary);
  REQUIRE(d.feed_binary("ignored") == decoder::status::complete);
  CHECK(*d.take().data == json{"a"});
  // A binary packet without payload at all.
  REQUIRE(d.feed_text("51-/admin,") == decoder::status::need_binary);
  REQUIRE(d.feed_binary("x") == decoder::status::complete);
  auto p = d.take();
  CHECK(p.nsp == "/admin");
  CHECK_FALSE(p.data);
}

TEST_CASE("socketio: is_payload_valid follows socket.io-parser", "[socketio]") {
  CHECK(is_payload_valid(packet_type::connect, json::object()));
  CHECK_FALSE(is_payload_valid(packet_type::connect, json::array()));
  CHECK_FALSE(is_payload_valid(packet_type::disconnect, json::object()));
  CHECK_FALSE(is_payload_valid(packet_type::disconnect, json(nullptr)));
  CHECK(is_payload_valid(packet_type::connect_error, json("x")));
  CHECK(is_payload_valid(packet_type::connect_error, json::object()));
  CHECK_FALSE(is_payload_valid(packet_type::connect_error, json(1)));
  CHECK(is_payload_valid(packet_type::event, json{"a"}));
  CHECK(is_payload_valid(packet_type::event, json{1.5}));
  CHECK(is_payload_valid(packet_type::binary_event, json{"a", 1}));
  CHECK_FALSE(is_payload_valid(packet_type::event, json::array()));
  CHECK_FALSE(is_payload_valid(packet_type::event, json{"disconnecting"}));
  CHECK_FALSE(is_payload_valid(packet_type::binary_event, json{"newListener"}));
  CHECK_FALSE(is_payload_valid(packet_type::event, json::object()));
  CHECK(is_payload_valid(packet_type::ack, json::array()));
  CHECK(is_payload_valid(packet_type::binary_ack, json{1}));
  CHECK_FALSE(is_payload_valid(packet_type::ack, json::object()));
}

TEST_CASE("socketio: take() moves the packet out once", "[socketio][decode]") {
  decoder d;
  REQUIRE(d.feed_text(R"(2/admin,3["a"])") == decoder::status::complete);
  auto p = d.take();
  CHECK(p.nsp == "/admin");
  auto q = d.take();
  CHECK(q.nsp == "/");
  CHECK_FALSE(q.data);
}
