// Engine.IO v4 codec: WebSocket frames, long-polling payloads and base64.
// Input: any bytes, read as a polling body, a text frame and a binary frame.
// Checks: no crash or UB; what decodes re-encodes to something that decodes to
// the same packets, and re-encoding is a fixpoint (base64 may come in
// non-canonical, with stray bits in the padding, so input == output is too strong).
#include "fuzz_check.hpp"
#include "engineio/packet.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

using namespace sio::engineio;

namespace {

bool same(const packet& a, const packet& b) {
  return a.is_binary() == b.is_binary() && a.type() == b.type() && a.data() == b.data()
         && a.wire() == b.wire();
}

std::vector<packet_ptr> shared(const std::vector<packet>& packets) {
  std::vector<packet_ptr> out;
  for (const auto& p : packets)
    out.push_back(std::make_shared<const packet>(p));
  return out;
}

void check_payload(std::string_view body) {
  std::vector<packet> first;
  if (!decode_payload(body, first))
    return;
  FUZZ_CHECK(!first.empty());
  auto encoded = encode_payload(shared(first));
  std::vector<packet> second;
  FUZZ_CHECK(decode_payload(encoded, second));
  FUZZ_CHECK(second.size() == first.size());
  for (std::size_t i = 0; i < first.size(); ++i)
    FUZZ_CHECK(same(first[i], second[i]));
  FUZZ_CHECK(encode_payload(shared(second)) == encoded);
}

void check_frame(std::string_view frame) {
  if (auto text = decode_frame(frame, false)) {
    // A text packet keeps its wire form byte for byte.
    if (!text->is_binary())
      FUZZ_CHECK(text->wire() == frame);
    FUZZ_CHECK(same(packet::from_wire(text->wire(), text->is_binary()), *text));
    // The same packet through a polling response, unless its data holds the
    // separator (Node's parser has the same ambiguity; JSON never contains it raw).
    if (text->data().find('\x1e') == std::string_view::npos) {
      std::vector<packet> back;
      FUZZ_CHECK(decode_payload(encode_payload({std::make_shared<const packet>(*text)}), back));
      FUZZ_CHECK(back.size() == 1 && same(back[0], *text));
    }
  }
  auto binary = decode_frame(frame, true);
  FUZZ_CHECK(binary && binary->is_binary() && binary->data() == frame);
  FUZZ_CHECK(binary->type() == packet_type::message);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  check_payload(input);
  check_frame(input);
  auto decoded = base64_decode(base64_encode(input));
  FUZZ_CHECK(decoded && *decoded == input);
  return 0;
}
