#include "socketio/msgpack_scan.hpp"

#include <cstdint>
#include <vector>

namespace sio::socketio {

namespace {

class scanner {
public:
  explicit scanner(std::string_view b) : b_(b) {}

  std::size_t left() const noexcept { return b_.size() - pos_; }
  std::size_t pos() const noexcept { return pos_; }

  /// A big-endian unsigned integer of `n` bytes; false past the end.
  bool read(std::size_t n, std::uint64_t& out) {
    if (left() < n)
      return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i)
      out = (out << 8) | static_cast<unsigned char>(b_[pos_++]);
    return true;
  }

  bool skip(std::uint64_t n) {
    if (n > left())
      return false;
    pos_ += static_cast<std::size_t>(n);
    return true;
  }

private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

} // namespace

bool msgpack_shape_ok(std::string_view bytes, int max_depth, std::string& error) {
  scanner in{bytes};
  // Items still to read in each open container; the bottom one is the root.
  std::vector<std::uint64_t> open{1};
  auto fail = [&](const char* why) {
    error = std::string{"invalid MessagePack: "} + why + " at byte " + std::to_string(in.pos());
    return false;
  };
  while (!open.empty()) {
    if (open.back() == 0) {
      open.pop_back();
      continue;
    }
    --open.back();
    std::uint64_t head = 0;
    if (!in.read(1, head))
      return fail("truncated");
    std::uint64_t items = 0; // for a container: the values it holds
    bool container = false;
    std::uint64_t n = 0;
    bool ok = true;
    if (head <= 0x7f || head >= 0xe0 || head == 0xc0 || head == 0xc2 || head == 0xc3) {
      // fixint, nil, bool: the byte is the value
    } else if (head >= 0x80 && head <= 0x8f) {
      container = true, items = 2 * (head & 0x0f);
    } else if (head >= 0x90 && head <= 0x9f) {
      container = true, items = head & 0x0f;
    } else if (head >= 0xa0 && head <= 0xbf) {
      ok = in.skip(head & 0x1f);
    } else {
      switch (head) {
        case 0xc4: ok = in.read(1, n) && in.skip(n); break; // bin 8/16/32
        case 0xc5: ok = in.read(2, n) && in.skip(n); break;
        case 0xc6: ok = in.read(4, n) && in.skip(n); break;
        case 0xc7: ok = in.read(1, n) && in.skip(n + 1); break; // ext 8/16/32: type byte too
        case 0xc8: ok = in.read(2, n) && in.skip(n + 1); break;
        case 0xc9: ok = in.read(4, n) && in.skip(n + 1); break;
        case 0xca: ok = in.skip(4); break; // float 32/64
        case 0xcb: ok = in.skip(8); break;
        case 0xcc: case 0xd0: ok = in.skip(1); break; // (u)int 8..64
        case 0xcd: case 0xd1: ok = in.skip(2); break;
        case 0xce: case 0xd2: ok = in.skip(4); break;
        case 0xcf: case 0xd3: ok = in.skip(8); break;
        case 0xd4: ok = in.skip(2); break; // fixext 1..16: type byte and data
        case 0xd5: ok = in.skip(3); break;
        case 0xd6: ok = in.skip(5); break;
        case 0xd7: ok = in.skip(9); break;
        case 0xd8: ok = in.skip(17); break;
        case 0xd9: ok = in.read(1, n) && in.skip(n); break; // str 8/16/32
        case 0xda: ok = in.read(2, n) && in.skip(n); break;
        case 0xdb: ok = in.read(4, n) && in.skip(n); break;
        case 0xdc: container = true, ok = in.read(2, items); break; // array 16/32
        case 0xdd: container = true, ok = in.read(4, items); break;
        case 0xde: container = true, ok = in.read(2, items), items *= 2; break; // map 16/32
        case 0xdf: container = true, ok = in.read(4, items), items *= 2; break;
        default: return fail("reserved byte 0xc1");
      }
    }
    if (!ok)
      return fail("a length past the end");
    if (!container)
      continue;
    // Every value takes at least one byte: a count beyond the bytes left is a lie.
    if (items > in.left())
      return fail("a count past the end");
    if (static_cast<int>(open.size()) > max_depth)
      return fail("nested too deep");
    open.push_back(items);
  }
  if (in.left() != 0)
    return fail("bytes after the value");
  return true;
}

} // namespace sio::socketio
