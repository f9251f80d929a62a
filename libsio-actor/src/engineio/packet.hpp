// Engine.IO v4 packets and their codec (pure functions, no I/O, no actors).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sio::engineio {

enum class packet_type : char {
  open = '0',
  close = '1',
  ping = '2',
  pong = '3',
  message = '4',
  upgrade = '5',
  noop = '6',
};

/// One Engine.IO packet, stored in its WebSocket wire form so that a packet
/// shared by many recipients is written without any per-recipient copy:
/// a text packet is the type character followed by its data ("4hello"),
/// a binary packet (always a message) is the raw bytes.
class packet {
public:
  static packet text(packet_type type, std::string_view data = {});
  static packet binary(std::string bytes);
  /// Rebuilds a packet from its wire() form, e.g. after it crossed the cluster.
  /// An empty text wire becomes a noop.
  static packet from_wire(std::string wire, bool is_binary);

  packet_type type() const noexcept;
  bool is_binary() const noexcept { return binary_; }
  /// The data without the type character (the raw bytes for binary).
  std::string_view data() const noexcept;
  /// The exact bytes of a WebSocket frame carrying this packet.
  const std::string& wire() const noexcept { return wire_; }

private:
  packet(std::string wire, bool binary) : wire_(std::move(wire)), binary_(binary) {}
  std::string wire_;
  bool binary_ = false;
};

using packet_ptr = std::shared_ptr<const packet>;

/// Decodes one WebSocket frame. Returns nothing for an empty text frame or an
/// unknown packet type (Node's parser reports "parser error" for those).
std::optional<packet> decode_frame(std::string_view frame, bool is_binary);

/// Encodes packets for an HTTP long-polling response: joined by '\x1e',
/// binary packets as 'b' followed by base64.
std::string encode_payload(const std::vector<packet_ptr>& packets);

/// Decodes an HTTP long-polling request body. Returns false (and leaves `out`
/// unspecified) if any packet is malformed; Node closes the session then.
bool decode_payload(std::string_view body, std::vector<packet>& out);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

} // namespace sio::engineio
