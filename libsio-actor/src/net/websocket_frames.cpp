#include "net/websocket_frames.hpp"

namespace sio::net::ws {

frame_header make_frame_header(opcode op, std::size_t payload_size) noexcept {
  frame_header h{};
  h.bytes[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(op)); // FIN
  if (payload_size < 126) {
    h.bytes[1] = static_cast<std::uint8_t>(payload_size);
    h.size = 2;
  } else if (payload_size <= 0xFFFF) {
    h.bytes[1] = 126;
    h.bytes[2] = static_cast<std::uint8_t>(payload_size >> 8);
    h.bytes[3] = static_cast<std::uint8_t>(payload_size);
    h.size = 4;
  } else {
    h.bytes[1] = 127;
    for (int i = 0; i < 8; ++i)
      h.bytes[2 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(payload_size) >> (56 - 8 * i));
    h.size = 10;
  }
  return h;
}

std::string close_payload(std::uint16_t code) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
}

std::size_t utf8_complete_prefix(std::string_view s) noexcept {
  auto* b = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // The bytes a lead byte may have after it (Unicode table 3-7): narrowing
    // the second byte's range rules out overlongs, surrogates and > U+10FFFF
    // as soon as that byte arrives.
    int extra;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    } else {
      return std::string_view::npos;
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + k == s.size())
        return i; // a code point cut short, valid so far
      unsigned char next = b[i + k];
      if (next < lo || next > hi)
        return std::string_view::npos;
      lo = 0x80;
      hi = 0xBF;
    }
    i += extra + 1;
  }
  return i;
}

bool valid_utf8(std::string_view s) noexcept {
  return utf8_complete_prefix(s) == s.size();
}

bool valid_close_code(std::uint16_t code) noexcept {
  // RFC 6455 7.4.1 and IANA's registry (1012-1014 came later); 1004-1006 and
  // 1015 must never be sent, 1016-2999 are reserved, 3000-4999 are for apps.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
         || (code >= 3000 && code <= 4999);
}

void frame_parser::feed(const char* data, std::size_t size, frame_sink& sink) {
  if (done_)
    return;
  if (partial_.empty()) {
    // The common case: whole frames, parsed straight from the read buffer.
    auto used = parse_all(data, size, sink);
    if (!done_ && used < size)
      partial_.assign(data + used, size - used);
    return;
  }
  partial_.append(data, size);
  auto used = parse_all(partial_.data(), partial_.size(), sink);
  if (done_ || used == partial_.size())
    std::string{}.swap(partial_); // give the memory back
  else
    partial_.erase(0, used);
}

std::size_t frame_parser::parse_all(const char* data, std::size_t size, frame_sink& sink) {
  std::size_t offset = 0;
  while (offset < size && !done_) {
    auto used = parse_one(data + offset, size - offset, sink);
    if (used == 0)
      break;
    offset += used;
  }
  return offset;
}

void frame_parser::fail(frame_sink& sink, close_code code, const char* what) {
  done_ = true;
  std::string{}.swap(partial_);
  std::string{}.swap(message_);
  sink.on_error(code, what);
}

std::size_t frame_parser::parse_one(const char* data, std::size_t size, frame_sink& sink) {
  auto* b = reinterpret_cast<const unsigned char*>(data);
  if (size < 2)
    return 0;
  bool fin = (b[0] & 0x80) != 0;
  if ((b[0] & 0x70) != 0) {
    fail(sink, protocol_error, "reserved bits set (no extension was negotiated)");
    return 0;
  }
  auto op = static_cast<opcode>(b[0] & 0x0F);
  if ((b[1] & 0x80) == 0) {
    fail(sink, protocol_error, "unmasked client frame");
    return 0;
  }
  std::uint64_t length = b[1] & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    if (size < 4)
      return 0;
    length = (std::uint64_t{b[2]} << 8) | b[3];
    header = 4;
    if (length < 126) {
      fail(sink, protocol_error, "length not in its shortest form");
      return 0;
    }
  } else if (length == 127) {
    if (size < 10)
      return 0;
    length = 0;
    for (int i = 0; i < 8; ++i)
      length = (length << 8) | b[2 + i];
    header = 10;
    if (length <= 0xFFFF) {
      fail(sink, protocol_error, "length not in its shortest form");
      return 0;
    }
  }
  bool control = (static_cast<std::uint8_t>(op) & 0x8) != 0;
  switch (op) {
    case opcode::continuation:
      if (!in_message_) {
        fail(sink, protocol_error, "continuation frame without a message");
        return 0;
      }
      break;
    case opcode::text:
    case opcode::binary:
      if (in_message_) {
        fail(sink, protocol_error, "new message inside a fragmented one");
        return 0;
      }
      break;
    case opcode::close:
    case opcode::ping:
    case opcode::pong:
      if (!fin || length > 125) {
        fail(sink, protocol_error, "fragmented or oversized control frame");
        return 0;
      }
      break;
    default:
      fail(sink, protocol_error, "unknown opcode");
      return 0;
  }
  // Refuse an oversized message as soon as its header says so, not after
  // buffering it.
  if (!control && length > max_message_ - std::min(max_message_, message_.size())) {
    fail(sink, too_big, "message too big");
    return 0;
  }
  header += 4; // the mask
  if (size < header || size - header < length)
    return 0;
  const unsigned char* mask = b + header - 4;
  const char* payload = data + header;
  auto n = static_cast<std::size_t>(length);

  std::string unmasked;
  std::string& out = control ? unmasked : message_;
  auto start = out.size();
  out.resize(start + n);
  for (std::size_t i = 0; i < n; ++i)
    out[start + i] = static_cast<char>(payload[i] ^ static_cast<char>(mask[i & 3]));

  if (control) {
    if (op == opcode::ping) {
      sink.on_ping(unmasked);
    } else if (op == opcode::close) {
      std::uint16_t code = 1005; // "no status received"
      if (unmasked.size() == 1) {
        fail(sink, protocol_error, "close frame with a 1-byte payload");
        return 0;
      }
      if (unmasked.size() >= 2) {
        code = static_cast<std::uint16_t>((static_cast<unsigned char>(unmasked[0]) << 8)
                                          | static_cast<unsigned char>(unmasked[1]));
        // Echoing a code that must not be sent, or accepting a reason that
        // is not text, would break the protocol ourselves (RFC 6455 7.1.6, 7.4).
        if (!valid_close_code(code) || !valid_utf8(std::string_view{unmasked}.substr(2))) {
          fail(sink, protocol_error, "invalid close code or reason");
          return 0;
        }
      }
      done_ = true;
      sink.on_close(code);
    }
    return header + n; // pong: nothing to do
  }
  if (op != opcode::continuation) {
    in_message_ = true;
    message_binary_ = op == opcode::binary;
    utf8_checked_ = 0;
  }
  if (!message_binary_) {
    // Fail on bad UTF-8 in the fragment that brings it (RFC 6455 8.1), not
    // only once the message is whole; a code point may span fragments.
    auto valid = utf8_complete_prefix(std::string_view{message_}.substr(utf8_checked_));
    if (valid == std::string_view::npos || (fin && utf8_checked_ + valid != message_.size())) {
      fail(sink, invalid_payload, "text message is not UTF-8");
      return 0;
    }
    utf8_checked_ += valid;
  }
  if (fin) {
    in_message_ = false;
    sink.on_message(message_, message_binary_);
    std::string{}.swap(message_);
  }
  return header + n;
}

} // namespace sio::net::ws
