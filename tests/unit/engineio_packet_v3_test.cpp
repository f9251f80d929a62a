// Engine.IO v3 framing (allow_eio3); expected bytes come from Node's
// engine.io lib/parser-v3 (engine.io-parser 2.2) and the v3 protocol docs.
#include "engineio/packet_v3.hpp"

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

TEST_CASE("engineio v3: lengths count UTF-16 code units, as JavaScript", "[engineio]") {
  CHECK(utf16_length("") == 0);
  CHECK(utf16_length("4hello") == 6);
  CHECK(utf16_length("\xc3\xa9") == 1);         // é
  CHECK(utf16_length("\xe2\x82\xac") == 1);     // €
  CHECK(utf16_length("\xf0\x9f\x98\x80") == 2); // 😀: a surrogate pair
  CHECK(utf16_length("\xff\xe2\x82") == 3);     // invalid bytes: one U+FFFD each
}

TEST_CASE("engineio v3: text payloads are length-prefixed, binary as b4 + base64", "[engineio]") {
  std::vector<packet_ptr> packets{share(packet::text(packet_type::message, "\xe2\x82\xac")),
                                  share(packet::binary("\x01\x02\x03\x04"s)),
                                  share(packet::text(packet_type::pong))};
  auto out = encode_payload_v3(packets, false);
  CHECK_FALSE(out.binary);
  CHECK(out.body == "2:4\xe2\x82\xac" "10:b4AQIDBA==1:3");
  CHECK(encode_payload_v3({}, false).body == "0:");
  CHECK(encode_payload_v3({share(packet::text(packet_type::noop))}, true).body == "1:6");
}

TEST_CASE("engineio v3: XHR2 binary framing when the client reads binary", "[engineio]") {
  std::vector<packet_ptr> packets{share(packet::text(packet_type::message, "\xc3\xa9")),
                                  share(packet::binary("\x01\x02"s))};
  auto out = encode_payload_v3(packets, true);
  CHECK(out.binary);
  // text: 0, length in UTF-8 bytes as digit bytes, 255; binary: 1, length with the type byte
  CHECK(out.body == "\x00\x03\xff" "4\xc3\xa9" "\x01\x03\xff\x04\x01\x02"s);
  std::vector<packet> back;
  REQUIRE(decode_payload_v3(out.body, true, back));
  REQUIRE(back.size() == 2);
  CHECK(back[0].wire() == "4\xc3\xa9");
  CHECK(back[1].is_binary());
  CHECK(back[1].data() == "\x01\x02"s);
}

TEST_CASE("engineio v3: decode_payload_v3 reads what old clients send", "[engineio]") {
  std::vector<packet> out;
  REQUIRE(decode_payload_v3("1:2", false, out)); // the client's ping
  REQUIRE(out.size() == 1);
  CHECK(out[0].type() == packet_type::ping);

  REQUIRE(decode_payload_v3("12:42[\"a\",\"\xf0\x9f\x98\x80\"]10:b4AQIDBA==", false, out));
  REQUIRE(out.size() == 2);
  CHECK(out[0].wire() == "42[\"a\",\"\xf0\x9f\x98\x80\"]");
  CHECK(out[1].is_binary());
  CHECK(out[1].data() == "\x01\x02\x03\x04"s);

  REQUIRE(decode_payload_v3("0:", false, out));
  CHECK(out.empty());
}

TEST_CASE("engineio v3: malformed payloads are refused", "[engineio]") {
  std::vector<packet> out;
  for (std::string body : {""s, "1"s, ":2"s, "2:2"s, "1:2x"s, "1:9"s, "a:2"s, "1:b"s,
                           "3:b4A"s, "6:b2AQI="s, "99999999999:2"s,
                           "1:4\xf0\x9f\x98\x80"s}) { // the last splits a surrogate pair
    INFO(body);
    CHECK_FALSE(decode_payload_v3(body, false, out));
  }
  for (std::string body : {""s, "\x00\x01"s, "\x02\x01\xff" "2"s, "\x00\x09\xff" "2"s,
                           "\x01\x01\xff\x02"s, "\x00\x0a\xff" "2"s, "\x00\xff"s}) {
    INFO(body);
    CHECK_FALSE(decode_payload_v3(body, true, out));
  }
}

TEST_CASE("engineio v3: WebSocket binary messages carry their type byte", "[engineio]") {
  auto framed = to_frame_v3(share(packet::binary("\x01\x02"s)));
  CHECK(framed->is_binary());
  CHECK(framed->wire() == "\x04\x01\x02"s);
  auto text = share(packet::text(packet_type::message, "2[\"x\"]"));
  CHECK(to_frame_v3(text) == text); // shared, not copied

  auto in = decode_frame_v3("\x04\xff"s, true);
  REQUIRE(in);
  CHECK(in->is_binary());
  CHECK(in->data() == "\xff"s);
  CHECK_FALSE(decode_frame_v3("\x02\xff"s, true));
  CHECK_FALSE(decode_frame_v3("", true));
  auto b64 = decode_frame_v3("b4AQI=", false);
  REQUIRE(b64);
  CHECK(b64->data() == "\x01\x02"s);
  CHECK_FALSE(decode_frame_v3("bAQI=", false)); // v4's form is not v3's
  REQUIRE(decode_frame_v3("2probe", false));
}
