// Engine.IO v3 framing (Socket.IO v2 clients, engine_options::allow_eio3),
// as Node's engine.io 6 does it with its copy of engine.io-parser 2.2
// (lib/parser-v3). Packets are the same as in v4; only the framing differs:
// length-prefixed polling payloads, binary as "b4<base64>" in text and with a
// leading type byte in binary form. Pure functions, no I/O, no actors.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/packet.hpp"

namespace sio::engineio {

/// The length of UTF-8 text as JavaScript counts it (UTF-16 code units): v3
/// payload lengths are JS string lengths. A byte that starts no valid
/// sequence counts as one unit (one U+FFFD after Node's UTF-8 decoding).
std::size_t utf16_length(std::string_view utf8);

struct payload_v3 {
  std::string body;
  /// application/octet-stream (XHR2 framing) rather than text/plain.
  bool binary = false;
};

/// Encodes packets for a v3 long-polling response. Text framing is
/// "<length>:<packet>" per packet, binary packets as "b4<base64>". With
/// `supports_binary` (the client did not send "b64") and a binary packet
/// among them, the XHR2 framing is used instead, as Node does:
/// <0 text | 1 binary><length as digit bytes><255><packet>.
payload_v3 encode_payload_v3(const std::vector<packet_ptr>& packets, bool supports_binary);

/// Decodes a v3 long-polling request body, text or (Content-Type
/// application/octet-stream) XHR2 binary framing. Returns false if anything
/// is malformed (Node then closes the session with "parse error"). Stricter
/// than Node where Node's checks are accidents of JavaScript (lengths are
/// decimal digits only; a binary packet must be a message).
bool decode_payload_v3(std::string_view body, bool is_binary, std::vector<packet>& out);

/// Decodes one v3 WebSocket message: text as in v4 but base64 binary is
/// "b4<base64>"; a binary message starts with its packet type byte.
std::optional<packet> decode_frame_v3(std::string_view frame, bool is_binary);

/// The form of a packet on a v3 WebSocket: binary messages get their type
/// byte in front (a copy, for old clients only); text is unchanged (shared).
packet_ptr to_frame_v3(const packet_ptr& p);

} // namespace sio::engineio
