// Engine.IO v4 packet codec; expected strings come from the protocol docs
// and from Node's engine.io-parser v5.
#include "engineio/packet.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace sio::engineio;
using namespace std::string_literals;

namespace {

packet_ptr share(packet p) {
  return std::make_shared<const packet>(std::move(p));
}

} // namespace

TEST_CASE("engineio: text packets keep their WebSocket wire form", "[engineio]") {
  auto p = packet::text(packet_type::message, "hello");
  CHECK(p.wire() == "4hello");
  CHECK(p.type() == packet_type::message);
  CHECK(p.data() == "hello");
  CHECK_FALSE(p.is_binary());

  auto ping = packet::text(packet_type::ping);
  CHECK(ping.wire() == "2");
  CHECK(ping.data().empty());

  auto open = packet::text(packet_type::open, R"({"sid":"lv_VI97HAXpY6yYWAAAC"})");
  CHECK(open.wire() == R"(0{"sid":"lv_VI97HAXpY6yYWAAAC"})");
}

TEST_CASE("engineio: binary packets are raw message bytes", "[engineio]") {
  auto p = packet::binary("\x01\x02\x03\x04"s);
  CHECK(p.is_binary());
  CHECK(p.type() == packet_type::message);
  CHECK(p.wire() == "\x01\x02\x03\x04"s);
  CHECK(p.data() == "\x01\x02\x03\x04"s);

  auto empty = packet::binary({});
  CHECK(empty.is_binary());
  CHECK(empty.type() == packet_type::message);
  CHECK(empty.data().empty());
}

TEST_CASE("engineio: decode_frame accepts every packet type", "[engineio]") {
  struct example {
    std::string frame;
    packet_type type;
    std::string data;
  };
  std::vector<example> examples = {
    {"0{\"sid\":\"abc\"}", packet_type::open, "{\"sid\":\"abc\"}"},
    {"1", packet_type::close, ""},
    {"2", packet_type::ping, ""},
    {"2probe", packet_type::ping, "probe"},
    {"3probe", packet_type::pong, "probe"},
    {"4hello", packet_type::message, "hello"},
    {"4", packet_type::message, ""},
    {"5", packet_type::upgrade, ""},
    {"6", packet_type::noop, ""},
    {"4\xC3\xA9\xE2\x82\xAC", packet_type::message, "\xC3\xA9\xE2\x82\xAC"},
  };
  for (const auto& e : examples) {
    INFO(e.frame);
    auto p = decode_frame(e.frame, false);
    REQUIRE(p);
    CHECK(p->type() == e.type);
    CHECK(p->data() == e.data);
    CHECK_FALSE(p->is_binary());
    CHECK(p->wire() == e.frame);
  }
}

TEST_CASE("engineio: decode_frame of a binary frame is a binary message", "[engineio]") {
  auto p = decode_frame("\x01\x02\x00\x04"s, true);
  REQUIRE(p);
  CHECK(p->is_binary());
  CHECK(p->type() == packet_type::message);
  CHECK(p->data() == "\x01\x02\x00\x04"s);

  // Even bytes that look like a text packet stay binary.
  auto q = decode_frame("4hello", true);
  REQUIRE(q);
  CHECK(q->is_binary());
  CHECK(q->data() == "4hello");

  auto empty = decode_frame("", true);
  REQUIRE(empty);
  CHECK(empty->is_binary());
  CHECK(empty->data().empty());
}

TEST_CASE("engineio: decode_frame accepts base64 binary in text, like Node", "[engineio]") {
  auto p = decode_frame("bAQIDBA==", false);
  REQUIRE(p);
  CHECK(p->is_binary());
  CHECK(p->data() == "\x01\x02\x03\x04"s);

  CHECK_FALSE(decode_frame("bAQIDBA=", false));
  CHECK_FALSE(decode_frame("b!!!!", false));
}

TEST_CASE("engineio: decode_frame rejects empty and unknown frames", "[engineio]") {
  CHECK_FALSE(decode_frame("", false));
  for (std::string frame : {"7", "9hello", "xhello", "/", " 4", "\x1e", "hello"}) {
    INFO(frame);
    CHECK_FALSE(decode_frame(frame, false));
  }
  CHECK_FALSE(decode_frame("\x00"s, false));
  CHECK_FALSE(decode_frame("\xff"s, false));
}

TEST_CASE("engineio: encode_payload joins packets with the record separator", "[engineio]") {
  // Node: encodePayload([message "hello", message <01 02 03 04>, ping, message "é€😀"]).
  std::vector<packet_ptr> packets = {
    share(packet::text(packet_type::message, "hello")),
    share(packet::binary("\x01\x02\x03\x04"s)),
    share(packet::text(packet_type::ping)),
    share(packet::text(packet_type::message, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80")),
  };
  CHECK(encode_payload(packets)
        == "4hello\x1e" "bAQIDBA==\x1e" "2\x1e" "4\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");

  CHECK(encode_payload({}).empty());
  CHECK(encode_payload({share(packet::text(packet_type::noop))}) == "6");
  CHECK(encode_payload({share(packet::binary({}))}) == "b");
  // The protocol docs' example of two events in one polling request.
  CHECK(encode_payload({share(packet::text(packet_type::message, R"(2["hello"])")),
                        share(packet::text(packet_type::message, R"(2["world"])"))})
        == "42[\"hello\"]\x1e" "42[\"world\"]");
}

TEST_CASE("engineio: decode_payload splits and decodes each packet", "[engineio]") {
  std::vector<packet> out;
  REQUIRE(decode_payload("4hello\x1e" "bAQIDBA==\x1e" "2probe", out));
  REQUIRE(out.size() == 3);
  CHECK(out[0].type() == packet_type::message);
  CHECK(out[0].data() == "hello");
  CHECK(out[1].is_binary());
  CHECK(out[1].data() == "\x01\x02\x03\x04"s);
  CHECK(out[2].type() == packet_type::ping);
  CHECK(out[2].data() == "probe");

  REQUIRE(decode_payload("1", out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].type() == packet_type::close);

  REQUIRE(decode_payload("b", out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].is_binary());
  CHECK(out[0].data().empty());
}

TEST_CASE("engineio: payload round trip", "[engineio]") {
  std::vector<packet_ptr> packets = {
    share(packet::text(packet_type::message, "a")),
    share(packet::binary("\x00\xff\x10"s)),
    share(packet::text(packet_type::pong, "probe")),
    share(packet::binary("x"s)),
    share(packet::text(packet_type::message, "")),
  };
  std::vector<packet> out;
  REQUIRE(decode_payload(encode_payload(packets), out));
  REQUIRE(out.size() == packets.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i].is_binary() == packets[i]->is_binary());
    CHECK(out[i].type() == packets[i]->type());
    CHECK(out[i].wire() == packets[i]->wire());
  }
}

TEST_CASE("engineio: decode_payload rejects any malformed packet", "[engineio]") {
  std::vector<packet> out;
  std::vector<std::string> bad = {
    "",                        // one empty packet
    "4a\x1e",                  // trailing separator: empty last packet
    "\x1e" "4a",               // leading separator
    "4a\x1e\x1e" "4b",         // empty packet in the middle
    "4a\x1e" "9",              // unknown type after a valid packet
    "hello",                   // no type
    "bA",                      // truncated base64
    "b!!!!",                   // invalid base64 character
    "4a\x1e" "bAQIDBA",        // unpadded base64
  };
  for (const auto& body : bad) {
    INFO(body);
    CHECK_FALSE(decode_payload(body, out));
  }
}

TEST_CASE("engineio: base64 matches RFC 4648 test vectors", "[engineio][base64]") {
  std::vector<std::pair<std::string, std::string>> vectors = {
    {"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    INFO(plain);
    CHECK(base64_encode(plain) == encoded);
    auto decoded = base64_decode(encoded);
    REQUIRE(decoded);
    CHECK(*decoded == plain);
  }
  CHECK(base64_encode("\xfb\xff\xbf"s) == "+/+/");
}

TEST_CASE("engineio: base64 round trips every byte value", "[engineio][base64]") {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    auto part = all.substr(all.size() - len);
    auto decoded = base64_decode(base64_encode(part));
    REQUIRE(decoded);
    CHECK(*decoded == part);
  }
  auto decoded = base64_decode(base64_encode(all));
  REQUIRE(decoded);
  CHECK(*decoded == all);
}

TEST_CASE("engineio: base64_decode rejects invalid input without throwing", "[engineio][base64]") {
  std::vector<std::string> bad = {
    "Z",        "Zg",        "Zg=",       "Zm9vY",     // lengths not a multiple of 4
    "Z===",     "====",      "Zg==Zg==",  "Z=g=",      // misplaced padding
    "Zm9v!A==", "Zm 9",      "Zm9\n",     "-_==",      // characters outside the alphabet
    "Zm9\x00"s, "\xff\xff\xff\xff",
  };
  for (const auto& text : bad) {
    INFO(text);
    CHECK_NOTHROW(base64_decode(text));
    CHECK_FALSE(base64_decode(text));
  }
}
