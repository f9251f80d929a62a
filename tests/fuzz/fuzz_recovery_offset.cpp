// The recovery offset a reconnecting client sends back (auth.offset, any
// string it likes): socketio::decode_offset.
// Input: any bytes, as the offset.
// Checks: no crash or UB; what decodes stays within the bounds (2 KiB, 64
// origins, origins of [0-9a-z]) and survives encode -> decode unchanged.
#include "fuzz_check.hpp"
#include "socketio/recovery_log.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace sio::socketio;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto v = decode_offset(text);
  if (!v)
    return 0;
  FUZZ_CHECK(size <= 2048);
  FUZZ_CHECK(!v->empty() && v->size() <= 64);
  for (auto& [origin, seq] : *v) {
    FUZZ_CHECK(!origin.empty());
    for (char c : origin)
      FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
    (void) seq;
  }
  auto again = decode_offset(encode_offset(*v));
  FUZZ_CHECK(again && *again == *v);
  return 0;
}
