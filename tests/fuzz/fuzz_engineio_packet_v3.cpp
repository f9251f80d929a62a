// Engine.IO v3 framing (allow_eio3): length-prefixed text payloads, XHR2
// binary payloads and v3 WebSocket messages. Input: any bytes, read as a text
// body, a binary body, a text frame and a binary frame.
// Checks: no crash or UB; what decodes re-encodes (text, and binary framing)
// to something that decodes to the same packets; a text packet's length
// prefix is its UTF-16 length; a v3 frame of a decoded packet decodes back.
#include "fuzz_check.hpp"
#include "engineio/packet_v3.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

using namespace sio::engineio;

namespace {

bool same(const packet& a, const packet& b) {
  return a.is_binary() == b.is_binary() && a.wire() == b.wire();
}

std::vector<packet_ptr> shared(const std::vector<packet>& packets) {
  std::vector<packet_ptr> out;
  for (const auto& p : packets)
    out.push_back(std::make_shared<const packet>(p));
  return out;
}

void round_trip(const std::vector<packet>& first, bool supports_binary) {
  auto encoded = encode_payload_v3(shared(first), supports_binary);
  std::vector<packet> second;
  FUZZ_CHECK(decode_payload_v3(encoded.body, encoded.binary, second));
  FUZZ_CHECK(second.size() == first.size());
  for (std::size_t i = 0; i < first.size(); ++i)
    FUZZ_CHECK(same(first[i], second[i]));
  FUZZ_CHECK(encode_payload_v3(shared(second), supports_binary).body == encoded.body);
}

void check_payload(std::string_view body, bool is_binary) {
  std::vector<packet> first;
  if (!decode_payload_v3(body, is_binary, first))
    return;
  FUZZ_CHECK(first.size() <= body.size()); // each packet took at least a byte
  round_trip(first, false);
  round_trip(first, true);
}

void check_frame(std::string_view frame, bool is_binary) {
  auto p = decode_frame_v3(frame, is_binary);
  if (!p)
    return;
  FUZZ_CHECK(p->is_binary() || p->wire() == frame);
  auto framed = to_frame_v3(std::make_shared<const packet>(*p));
  auto back = decode_frame_v3(framed->wire(), framed->is_binary());
  FUZZ_CHECK(back && same(*back, *p));
  // One text packet in a text payload: its prefix counts UTF-16 units.
  if (!p->is_binary()) {
    auto body = encode_payload_v3({framed}, false).body;
    FUZZ_CHECK(body == std::to_string(utf16_length(p->wire())) + ":" + p->wire());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  check_payload(input, false);
  check_payload(input, true);
  check_frame(input, false);
  check_frame(input, true);
  FUZZ_CHECK(utf16_length(input) <= input.size());
  return 0;
}
