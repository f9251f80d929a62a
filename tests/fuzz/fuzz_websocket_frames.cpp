// WebSocket frame parser (client-to-server frames).
// Input: byte 0 picks the message size limit, bytes 1-4 seed the chunking,
// the rest is the byte stream as it would arrive on the socket.
// Checks: no crash or UB; the stream fed whole and fed in chunks of
// input-chosen sizes (as reads would split it) gives the same messages, pings,
// close code and error; nothing is reported after a close or an error; the
// parser never buffers more than one message plus one frame header.
#include "fuzz_check.hpp"
#include "net/websocket_frames.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace sio::net::ws;

namespace {

struct recorder final : frame_sink {
  std::vector<std::string> events; // in order: messages, pings, the end
  bool ended = false;

  void add(std::string e) {
    FUZZ_CHECK(!ended); // the parser must stop after close or error
    events.push_back(std::move(e));
  }
  void on_message(std::string& data, bool binary) override {
    FUZZ_CHECK(binary || valid_utf8(data));
    add((binary ? "B" : "T") + data);
  }
  void on_ping(std::string_view payload) override {
    FUZZ_CHECK(payload.size() <= 125);
    add("P" + std::string{payload});
  }
  void on_close(std::uint16_t code) override {
    add("C" + std::to_string(code));
    ended = true;
  }
  void on_error(close_code code, const char* what) override {
    FUZZ_CHECK(what != nullptr);
    add("E" + std::to_string(code));
    ended = true;
  }
};

constexpr std::size_t limits[] = {0, 1, 16, 125, 126, 1000, 65535, 65536, 1 << 20};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5)
    return 0;
  auto max = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
  std::uint32_t seed = data[1] | (data[2] << 8) | (data[3] << 16) | (std::uint32_t{data[4]} << 24);
  auto* bytes = reinterpret_cast<const char*>(data + 5);
  size -= 5;
  // One header, a whole control frame and the mask on top of a full message.
  const std::size_t bound = max + 14 + 125;

  recorder whole;
  frame_parser one{max};
  one.feed(bytes, size, whole);
  FUZZ_CHECK(one.buffered() <= bound);

  recorder split;
  frame_parser many{max};
  std::size_t offset = 0;
  while (offset < size) {
    // xorshift: chunk sizes from the seed, mostly small, sometimes large.
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    std::size_t n = (seed & 0x80) ? 1 + (seed >> 8) % 4096 : 1 + (seed >> 8) % 16;
    n = std::min(n, size - offset);
    many.feed(bytes + offset, n, split);
    FUZZ_CHECK(many.buffered() <= bound);
    offset += n;
  }
  FUZZ_CHECK(whole.events == split.events);
  return 0;
}
