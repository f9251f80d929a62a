// RFC 6455 framing: client frames built here byte by byte (masked, as a
// client must send them), fed to the parser whole, split and byte by byte.
#include "net/websocket_frames.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sio::net::ws;

namespace {

/// A client frame: FIN, opcode, mask key, masked payload.
std::string client_frame(std::uint8_t op, std::string_view payload, bool fin = true,
                         bool masked = true, std::uint8_t rsv = 0) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | rsv | op);
  std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xFF);
  } else {
    f += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i)
      f += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> (8 * i)) & 0xFF);
  }
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked)
    f.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f += masked ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i];
  return f;
}

struct recorder : frame_sink {
  std::vector<std::pair<std::string, bool>> messages;
  std::vector<std::string> pings;
  std::vector<std::uint16_t> closes;
  std::vector<close_code> errors;
  void on_message(std::string& data, bool binary) override {
    messages.emplace_back(std::move(data), binary);
  }
  void on_ping(std::string_view p) override { pings.emplace_back(p); }
  void on_close(std::uint16_t code) override { closes.push_back(code); }
  void on_error(close_code code, const char*) override { errors.push_back(code); }
};

/// Feeds `bytes` in pieces of `step` bytes (0: all at once).
recorder feed(const std::string& bytes, std::size_t step = 0, std::size_t max = 1000) {
  recorder r;
  frame_parser p{max};
  if (step == 0) {
    p.feed(bytes.data(), bytes.size(), r);
  } else {
    for (std::size_t i = 0; i < bytes.size(); i += step)
      p.feed(bytes.data() + i, std::min(step, bytes.size() - i), r);
  }
  return r;
}

} // namespace

TEST_CASE("websocket frames: text and binary messages, whole or split anywhere", "[ws]") {
  std::string big(300, 'x'); // 16-bit length
  auto bytes = client_frame(0x1, "42[\"hi\"]") + client_frame(0x2, std::string("\x00\x01\xff", 3))
               + client_frame(0x1, big);
  for (std::size_t step : {0, 1, 2, 3, 7, 64}) {
    auto r = feed(bytes, step);
    INFO("step " << step);
    REQUIRE(r.messages.size() == 3);
    CHECK(r.messages[0] == std::make_pair(std::string{"42[\"hi\"]"}, false));
    CHECK(r.messages[1] == std::make_pair(std::string("\x00\x01\xff", 3), true));
    CHECK(r.messages[2].first == big);
    CHECK(r.errors.empty());
  }
}

TEST_CASE("websocket frames: 64-bit length", "[ws]") {
  std::string huge(70000, 'y');
  auto r = feed(client_frame(0x2, huge), 4096, 100000);
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].first == huge);
}

TEST_CASE("websocket frames: fragments join, control frames may come between", "[ws]") {
  auto bytes = client_frame(0x1, "hel", false) + client_frame(0x9, "are you there")
               + client_frame(0x0, "lo ", false) + client_frame(0x0, "world");
  for (std::size_t step : {0, 1, 5}) {
    auto r = feed(bytes, step);
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0].first == "hello world");
    REQUIRE(r.pings.size() == 1);
    CHECK(r.pings[0] == "are you there");
  }
}

TEST_CASE("websocket frames: close carries its code and ends parsing", "[ws]") {
  auto r = feed(client_frame(0x8, "\x03\xe8") + client_frame(0x1, "after close"));
  CHECK(r.closes == std::vector<std::uint16_t>{1000});
  CHECK(r.messages.empty());
  auto none = feed(client_frame(0x8, ""));
  CHECK(none.closes == std::vector<std::uint16_t>{1005});
}

TEST_CASE("websocket frames: protocol violations are errors with the right close code", "[ws]") {
  CHECK(feed(client_frame(0x1, "x", true, false)).errors == std::vector<close_code>{protocol_error});
  CHECK(feed(client_frame(0x1, "x", true, true, 0x40)).errors
        == std::vector<close_code>{protocol_error});
  CHECK(feed(client_frame(0x3, "x")).errors == std::vector<close_code>{protocol_error});
  CHECK(feed(client_frame(0x0, "x")).errors == std::vector<close_code>{protocol_error});
  CHECK(feed(client_frame(0x1, "a", false) + client_frame(0x1, "b")).errors
        == std::vector<close_code>{protocol_error});
  CHECK(feed(client_frame(0x9, "p", false)).errors == std::vector<close_code>{protocol_error});
  CHECK(feed(client_frame(0x9, std::string(126, 'p'))).errors
        == std::vector<close_code>{protocol_error});
  CHECK(feed(client_frame(0x1, "\xc3\x28")).errors == std::vector<close_code>{invalid_payload});
}

TEST_CASE("websocket frames: an oversized message fails on its header", "[ws]") {
  auto frame = client_frame(0x1, std::string(1001, 'z'));
  // Only the header arrives: the parser must not wait for (or buffer) the rest.
  auto r = feed(frame.substr(0, 8), 0, 1000);
  CHECK(r.errors == std::vector<close_code>{too_big});
  // Fragments adding up to more than the limit fail too.
  auto parts = client_frame(0x1, std::string(600, 'a'), false) + client_frame(0x0, std::string(600, 'b'));
  CHECK(feed(parts, 0, 1000).errors == std::vector<close_code>{too_big});
  // Exactly the limit is fine.
  CHECK(feed(client_frame(0x1, std::string(1000, 'c')), 0, 1000).messages.size() == 1);
}

TEST_CASE("websocket frames: UTF-8 validation", "[ws]") {
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80")); // é € 😀
  CHECK_FALSE(valid_utf8("\xc0\xaf"));                      // overlong
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));                  // surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));              // > U+10FFFF
  CHECK_FALSE(valid_utf8("\xe2\x82"));                      // truncated
}

TEST_CASE("websocket frames: server headers", "[ws]") {
  auto small = make_frame_header(opcode::text, 5);
  CHECK(small.size == 2);
  CHECK(small.bytes[0] == 0x81);
  CHECK(small.bytes[1] == 5);
  auto mid = make_frame_header(opcode::binary, 300);
  CHECK(mid.size == 4);
  CHECK(mid.bytes[0] == 0x82);
  CHECK(mid.bytes[1] == 126);
  CHECK(((mid.bytes[2] << 8) | mid.bytes[3]) == 300);
  auto large = make_frame_header(opcode::text, 70000);
  CHECK(large.size == 10);
  CHECK(large.bytes[1] == 127);
  CHECK(large.bytes[9] == (70000 & 0xFF));
  CHECK(close_payload(1009) == std::string("\x03\xf1", 2));
}

TEST_CASE("websocket frames: close frames must carry a valid code and a UTF-8 reason", "[ws]") {
  // RFC 6455 7.4: the server would otherwise echo a code nobody may send.
  CHECK(feed(client_frame(0x8, "\x03")).errors == std::vector<close_code>{protocol_error});
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    INFO("code " << code);
    CHECK(feed(client_frame(0x8, close_payload(code))).errors
          == std::vector<close_code>{protocol_error});
  }
  for (std::uint16_t code : {1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999}) {
    INFO("code " << code);
    CHECK(feed(client_frame(0x8, close_payload(code) + "bye")).closes
          == std::vector<std::uint16_t>{code});
  }
  CHECK(feed(client_frame(0x8, close_payload(1000) + "\xc3\x28")).errors
        == std::vector<close_code>{protocol_error});
}

TEST_CASE("websocket frames: lengths must use their shortest form", "[ws]") {
  // 5 bytes announced in the 16-bit form, 300 in the 64-bit form (RFC 6455 5.2).
  std::string five = std::string("\x81\xfe\x00\x05", 4) + std::string(4, '\0') + "hello";
  CHECK(feed(five).errors == std::vector<close_code>{protocol_error});
  std::string long_form = std::string("\x82\xff", 2) + std::string(6, '\0') + "\x01\x2c"
                          + std::string(4, '\0') + std::string(300, 'x');
  CHECK(feed(long_form).errors == std::vector<close_code>{protocol_error});
}

TEST_CASE("websocket frames: bad UTF-8 fails in the fragment that brings it", "[ws]") {
  // The message never ends, yet its first fragment already cannot be text.
  CHECK(feed(client_frame(0x1, "ok\xc3\x28", false)).errors == std::vector<close_code>{invalid_payload});
  // A surrogate is refused on its second byte, before the third arrives.
  CHECK(feed(client_frame(0x1, "\xed\xa0", false)).errors == std::vector<close_code>{invalid_payload});
  // 1007 for the bad fragment, not 1009 for the one after it.
  auto bad_then_big = client_frame(0x1, "\xff", false) + client_frame(0x0, std::string(2000, 'a'));
  CHECK(feed(bad_then_big).errors == std::vector<close_code>{invalid_payload});
  // A code point may span fragments...
  auto euro = client_frame(0x1, "\xe2\x82", false) + client_frame(0x0, "\xac");
  for (std::size_t step : {0, 1}) {
    auto r = feed(euro, step);
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0].first == "\xe2\x82\xac");
  }
  // ...but must be complete when the message is, even if the last frame is empty.
  auto cut = client_frame(0x1, "a\xeb", false) + client_frame(0x0, "");
  CHECK(feed(cut).errors == std::vector<close_code>{invalid_payload});
}

TEST_CASE("websocket frames: UTF-8 prefixes cut inside a code point", "[ws]") {
  constexpr auto bad = std::string_view::npos;
  CHECK(utf8_complete_prefix("abc") == 3);
  CHECK(utf8_complete_prefix("a\xe2\x82") == 1);           // € cut short
  CHECK(utf8_complete_prefix("\xf0\x9f\x98") == 0);        // 😀 cut short
  CHECK(utf8_complete_prefix("\xe0\x80") == bad);          // overlong, seen on byte 2
  CHECK(utf8_complete_prefix("\xed\xa0") == bad);          // surrogate
  CHECK(utf8_complete_prefix("\xf4\x90") == bad);          // > U+10FFFF
  CHECK(utf8_complete_prefix("\xc1") == bad);              // can only be overlong
  CHECK(utf8_complete_prefix("\xe2\x28") == bad);          // not a continuation byte
}
