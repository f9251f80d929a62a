// Socket.IO v5 decoder with binary attachments, fed as the session feeds it.
// Input: an Engine.IO long-polling body ("451-[...]\x1ebAQID"): parts are split
// on '\x1e'; "4..." is a text packet, "b..." an attachment (base64, or the raw
// bytes after 'b' when they are not base64), anything else raw binary bytes.
// Checks: no crash, UB or exception; every complete packet re-encodes (encode)
// into text + attachments that decode to the same packet; a packet never holds
// more attachment bytes than the client sent (placeholders may not multiply
// an attachment).
#include "fuzz_check.hpp"
#include "engineio/packet.hpp"
#include "socketio/packet.hpp"
#include "socketio/wire.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace sio::socketio;

namespace {

std::size_t binary_bytes(const sio::json& v) {
  if (v.is_binary())
    return v.get_binary().size();
  std::size_t n = 0;
  if (v.is_array() || v.is_object())
    for (const auto& child : v)
      n += binary_bytes(child);
  return n;
}

bool same(const packet& a, const packet& b) {
  return a.type == b.type && a.nsp == b.nsp && a.id == b.id && a.data == b.data;
}

// The packet through the encoder and a fresh decoder with the same limits.
void check_round_trip(const packet& p, decoder_limits limits) {
  auto encoded = encode(p);
  decoder d{limits};
  auto st = d.feed_text(encoded.text);
  for (const auto& a : encoded.attachments) {
    FUZZ_CHECK(st == decoder::status::need_binary);
    st = d.feed_binary(a);
  }
  FUZZ_CHECK(st == decoder::status::complete);
  FUZZ_CHECK(same(d.take(), p));
  // wire.cpp's framing: one text packet, then one binary packet per attachment.
  auto engine = to_engine_packets(sio::wire_format::json, p);
  FUZZ_CHECK(engine.size() == 1 + encoded.attachments.size());
  FUZZ_CHECK(!engine[0]->is_binary() && engine[0]->data() == encoded.text);
}

struct run {
  decoder_limits limits;
  decoder d{limits};
  std::size_t attachment_bytes = 0; // fed since the last complete packet or error

  explicit run(decoder_limits l) : limits(l) {}

  void after(decoder::status st) {
    if (st == decoder::status::need_binary) {
      FUZZ_CHECK(d.reconstructing());
      return;
    }
    FUZZ_CHECK(!d.reconstructing());
    if (st == decoder::status::complete) {
      auto p = d.take();
      if (p.data)
        FUZZ_CHECK(binary_bytes(*p.data) <= attachment_bytes);
      check_round_trip(p, limits);
    } else {
      FUZZ_CHECK(!d.error().empty());
    }
    attachment_bytes = 0;
  }
  void text(std::string_view s) { after(d.feed_text(s)); }
  void binary(std::string_view s) {
    attachment_bytes += s.size();
    after(d.feed_binary(s));
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  // The server's defaults, and tight limits so the limit paths get exercised.
  run runs[] = {run{decoder_limits{}}, run{decoder_limits{3, 4}}};
  std::size_t start = 0;
  for (;;) {
    auto end = input.find('\x1e', start);
    auto part = input.substr(start, end == std::string_view::npos ? end : end - start);
    for (auto& r : runs) {
      if (!part.empty() && part[0] == '4') {
        r.text(part.substr(1));
      } else if (!part.empty() && part[0] == 'b') {
        auto bytes = sio::engineio::base64_decode(part.substr(1));
        r.binary(bytes ? std::string_view{*bytes} : part.substr(1));
      } else {
        r.binary(part);
      }
    }
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  return 0;
}
