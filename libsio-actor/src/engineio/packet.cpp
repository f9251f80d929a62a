// Engine.IO v4 packet codec, matching Node's engine.io-parser v5.
#include "engineio/packet.hpp"

#include <array>
#include <cstdint>

namespace sio::engineio {

namespace {

constexpr char separator = '\x1e';

constexpr char base64_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Maps a character to its 6-bit value, or -1 for anything outside the
// standard alphabet (padding is handled separately).
constexpr std::array<std::int8_t, 256> make_base64_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table)
    v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}

constexpr auto base64_table = make_base64_table();

bool is_known_type(char c) noexcept {
  return c >= '0' && c <= '6';
}

} // namespace

packet packet::text(packet_type type, std::string_view data) {
  std::string wire;
  wire.reserve(data.size() + 1);
  wire.push_back(static_cast<char>(type));
  wire.append(data);
  return packet{std::move(wire), false};
}

packet packet::binary(std::string bytes) {
  return packet{std::move(bytes), true};
}

packet packet::from_wire(std::string wire, bool is_binary) {
  if (!is_binary && wire.empty())
    return text(packet_type::noop);
  return packet{std::move(wire), is_binary};
}

packet_type packet::type() const noexcept {
  // Only message packets can carry binary data; a text packet always has
  // its type character, so wire_ is never empty here.
  if (binary_ || wire_.empty())
    return packet_type::message;
  return static_cast<packet_type>(wire_[0]);
}

std::string_view packet::data() const noexcept {
  std::string_view wire = wire_;
  if (binary_)
    return wire;
  return wire.empty() ? wire : wire.substr(1);
}

std::optional<packet> decode_frame(std::string_view frame, bool is_binary) {
  if (is_binary)
    return packet::binary(std::string{frame});
  if (frame.empty())
    return std::nullopt;
  // Node accepts a base64 binary message in any text context, not only in
  // polling payloads; we do the same but refuse malformed base64.
  if (frame[0] == 'b') {
    auto bytes = base64_decode(frame.substr(1));
    if (!bytes)
      return std::nullopt;
    return packet::binary(std::move(*bytes));
  }
  if (!is_known_type(frame[0]))
    return std::nullopt;
  return packet::text(static_cast<packet_type>(frame[0]), frame.substr(1));
}

std::string encode_payload(const std::vector<packet_ptr>& packets) {
  // Size the result once: responses can carry many packets.
  std::size_t size = 0;
  for (const auto& p : packets) {
    if (!p)
      continue;
    size += 1 + (p->is_binary() ? 1 + (p->wire().size() + 2) / 3 * 4 : p->wire().size());
  }
  std::string out;
  out.reserve(size);
  bool first = true;
  for (const auto& p : packets) {
    if (!p)
      continue;
    if (!first)
      out.push_back(separator);
    first = false;
    if (p->is_binary()) {
      out.push_back('b');
      out += base64_encode(p->wire());
    } else {
      out += p->wire();
    }
  }
  return out;
}

bool decode_payload(std::string_view body, std::vector<packet>& out) {
  out.clear();
  // An empty body splits into one empty part, which is malformed (as in Node).
  std::size_t start = 0;
  for (;;) {
    auto end = body.find(separator, start);
    auto part = body.substr(start, end == std::string_view::npos ? std::string_view::npos
                                                                 : end - start);
    auto decoded = decode_frame(part, false);
    if (!decoded)
      return false;
    out.push_back(std::move(*decoded));
    if (end == std::string_view::npos)
      return true;
    start = end + 1;
  }
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    auto n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(base64_alphabet[(n >> 18) & 63]);
    out.push_back(base64_alphabet[(n >> 12) & 63]);
    out.push_back(base64_alphabet[(n >> 6) & 63]);
    out.push_back(base64_alphabet[n & 63]);
  }
  auto rest = bytes.size() - i;
  if (rest == 1) {
    auto n = byte(i) << 16;
    out.push_back(base64_alphabet[(n >> 18) & 63]);
    out.push_back(base64_alphabet[(n >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    auto n = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(base64_alphabet[(n >> 18) & 63]);
    out.push_back(base64_alphabet[(n >> 12) & 63]);
    out.push_back(base64_alphabet[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // Strict RFC 4648: padded to a multiple of 4, at most two '=' and only at
  // the end. Node is more lenient, but its own clients always pad.
  if (text.size() % 4 != 0)
    return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = 1;
    if (text[text.size() - 2] == '=')
      padding = 2;
  }
  auto data_chars = text.size() - padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < data_chars; ++i) {
    auto v = base64_table[static_cast<unsigned char>(text[i])];
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

} // namespace sio::engineio
