// The msgpack parser's decoder (socket.io-msgpack-parser packets): every input
// is one binary Engine.IO message. Checks: no crash, UB, exception or deep
// recursion; whatever msgpack_shape_ok accepts, nlohmann's reader parses
// without running past the input; every complete packet re-encodes
// (encode_msgpack) into bytes that decode to the same packet.
#include "fuzz_check.hpp"
#include "socketio/json_parse.hpp"
#include "socketio/msgpack_scan.hpp"
#include "socketio/packet.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace sio::socketio;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  decoder_limits limits;
  limits.max_depth = 20; // small, so that the fuzzer reaches the limit
  limits.max_object_members = 64;
  limits.max_values = 4096;
  decoder d{limits, sio::wire_format::msgpack};
  auto st = d.feed_binary(bytes);
  FUZZ_CHECK(st != decoder::status::need_binary);
  if (st == decoder::status::complete) {
    auto p = d.take();
    FUZZ_CHECK(p.type != packet_type::binary_event && p.type != packet_type::binary_ack);
    auto again = encode_msgpack(p);
    decoder d2{limits, sio::wire_format::msgpack};
    FUZZ_CHECK(d2.feed_binary(again) == decoder::status::complete);
    auto q = d2.take();
    // Bytes, not json ==: a float NaN is not equal to itself.
    FUZZ_CHECK(q.type == p.type && q.nsp == p.nsp && q.id == p.id && encode_msgpack(q) == again);
  } else {
    FUZZ_CHECK(!d.error().empty());
  }
  // The scan and the parser on their own: the scan's verdict keeps the
  // parser safe (a parse may still fail, for instance on a non-string key).
  std::string why;
  if (msgpack_shape_ok(bytes, 20, why)) {
    auto v = parse_msgpack(bytes, json_limits{64, 4096}, why);
    (void)v;
  }
  return 0;
}
