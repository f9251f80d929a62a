// Engine.IO v3 framing, matching lib/parser-v3 of Node's engine.io 6.
#include "engineio/packet_v3.hpp"

#include <cstdint>

namespace sio::engineio {

namespace {

constexpr char message_type_byte = 4; // packet_type::message as a byte, in binary framing
constexpr std::size_t max_length_digits = 10; // more than any body the HTTP limit lets in

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xc0) == 0x80;
}

/// Bytes and UTF-16 units of the character at `pos` (see utf16_length).
std::pair<std::size_t, std::size_t> next_char(std::string_view s, std::size_t pos) noexcept {
  auto c = static_cast<unsigned char>(s[pos]);
  std::size_t bytes = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                      : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (bytes == 0 || pos + bytes > s.size())
    return {1, 1};
  for (std::size_t k = 1; k < bytes; ++k)
    if (!is_continuation(static_cast<unsigned char>(s[pos + k])))
      return {1, 1};
  return {bytes, bytes == 4 ? 2 : 1}; // beyond the BMP: a surrogate pair
}

/// One packet of a text payload or text WebSocket message
/// (decodePacket without utf8decode): "b4<base64>" or "<type><data>".
std::optional<packet> decode_text(std::string_view msg) {
  if (msg.empty())
    return std::nullopt;
  if (msg[0] == 'b') {
    if (msg.size() < 2 || msg[1] != static_cast<char>(packet_type::message))
      return std::nullopt;
    auto bytes = base64_decode(msg.substr(2));
    if (!bytes)
      return std::nullopt;
    return packet::binary(std::move(*bytes));
  }
  if (msg[0] < '0' || msg[0] > '6')
    return std::nullopt;
  return packet::text(static_cast<packet_type>(msg[0]), msg.substr(1));
}

std::optional<packet> decode_binary(std::string_view msg) {
  if (msg.empty() || msg[0] != message_type_byte)
    return std::nullopt;
  return packet::binary(std::string{msg.substr(1)});
}

bool decode_text_payload(std::string_view body, std::vector<packet>& out) {
  if (body.empty())
    return false;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t n = 0;
    std::size_t digits = 0;
    for (; pos < body.size() && body[pos] != ':'; ++pos, ++digits) {
      if (body[pos] < '0' || body[pos] > '9' || digits == max_length_digits)
        return false;
      n = n * 10 + static_cast<std::size_t>(body[pos] - '0');
    }
    if (pos == body.size() || digits == 0)
      return false; // a length without its packet, or ':' without a length
    auto start = ++pos;
    std::size_t units = 0;
    while (units < n && pos < body.size()) {
      auto [bytes, u] = next_char(body, pos);
      if (units + u > n)
        return false; // the length splits a surrogate pair
      units += u;
      pos += bytes;
    }
    if (units != n)
      return false;
    if (n == 0)
      continue; // "0:" is an empty payload, skipped as in Node
    auto p = decode_text(body.substr(start, pos - start));
    if (!p)
      return false;
    out.push_back(std::move(*p));
  }
  return true;
}

bool decode_binary_payload(std::string_view body, std::vector<packet>& out) {
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto kind = body[pos++];
    if (kind != 0 && kind != 1)
      return false;
    std::size_t n = 0;
    std::size_t digits = 0;
    for (; pos < body.size() && static_cast<unsigned char>(body[pos]) != 255; ++pos, ++digits) {
      auto d = static_cast<unsigned char>(body[pos]);
      if (d > 9 || digits == max_length_digits)
        return false;
      n = n * 10 + d;
    }
    if (pos == body.size() || digits == 0 || n > body.size() - pos - 1)
      return false;
    auto msg = body.substr(pos + 1, n);
    pos += 1 + n;
    auto p = kind == 0 ? decode_text(msg) : decode_binary(msg);
    if (!p)
      return false;
    out.push_back(std::move(*p));
  }
  return !out.empty();
}

void append_binary_header(std::string& out, char kind, std::size_t length) {
  out.push_back(kind);
  for (char digit : std::to_string(length))
    out.push_back(static_cast<char>(digit - '0'));
  out.push_back(static_cast<char>(255));
}

} // namespace

std::size_t utf16_length(std::string_view utf8) {
  std::size_t units = 0;
  for (std::size_t pos = 0; pos < utf8.size();) {
    auto [bytes, u] = next_char(utf8, pos);
    pos += bytes;
    units += u;
  }
  return units;
}

payload_v3 encode_payload_v3(const std::vector<packet_ptr>& packets, bool supports_binary) {
  payload_v3 out;
  bool any_binary = false;
  for (const auto& p : packets)
    any_binary = any_binary || (p && p->is_binary());
  out.binary = supports_binary && any_binary;
  for (const auto& p : packets) {
    if (!p)
      continue;
    const auto& wire = p->wire();
    if (out.binary && p->is_binary()) {
      append_binary_header(out.body, 1, wire.size() + 1);
      out.body.push_back(message_type_byte);
      out.body += wire;
    } else if (out.binary) {
      append_binary_header(out.body, 0, wire.size()); // UTF-8 bytes, as Node's utf8encode
      out.body += wire;
    } else if (p->is_binary()) {
      auto text = base64_encode(wire);
      out.body += std::to_string(text.size() + 2);
      out.body += ":b4";
      out.body += text;
    } else {
      out.body += std::to_string(utf16_length(wire));
      out.body.push_back(':');
      out.body += wire;
    }
  }
  if (out.body.empty())
    out.body = "0:"; // no packets, as Node writes it
  return out;
}

bool decode_payload_v3(std::string_view body, bool is_binary, std::vector<packet>& out) {
  out.clear();
  return is_binary ? decode_binary_payload(body, out) : decode_text_payload(body, out);
}

std::optional<packet> decode_frame_v3(std::string_view frame, bool is_binary) {
  return is_binary ? decode_binary(frame) : decode_text(frame);
}

packet_ptr to_frame_v3(const packet_ptr& p) {
  if (!p || !p->is_binary())
    return p;
  std::string wire;
  wire.reserve(p->wire().size() + 1);
  wire.push_back(message_type_byte);
  wire += p->wire();
  return std::make_shared<const packet>(packet::binary(std::move(wire)));
}

} // namespace sio::engineio
