// Socket.IO v5 packets and their codec (pure functions, no I/O, no actors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sio/json.hpp"
#include "sio/wire_format.hpp"

namespace sio::socketio {

enum class packet_type : int {
  connect = 0,
  disconnect = 1,
  event = 2,
  ack = 3,
  connect_error = 4,
  binary_event = 5,
  binary_ack = 6,
};

struct packet {
  packet_type type = packet_type::event;
  std::string nsp = "/";
  std::optional<std::uint64_t> id;
  /// Absent for packets without a payload (e.g. DISCONNECT, or CONNECT without
  /// auth). Binary attachments appear as json::binary values inside it.
  std::optional<json> data;
};

/// A packet on the wire: the text part (without Engine.IO's "4" prefix) and
/// its binary attachments in order.
struct encoded_packet {
  std::string text;
  std::vector<std::string> attachments;
};

/// Encodes a packet. EVENT/ACK packets whose data holds binary values are sent
/// as BINARY_EVENT/BINARY_ACK with placeholders {"_placeholder":true,"num":N}.
/// Never throws: invalid UTF-8 in strings is replaced (U+FFFD).
encoded_packet encode(const packet& p);

/// socket.io-msgpack-parser's form of a packet: one MessagePack map
/// {type, nsp, data (if any), id (if any)}; binary values stay binary (no
/// attachments, no BINARY_* types). Never throws.
std::string encode_msgpack(const packet& p);

/// Compact JSON text, as JSON.stringify writes it; never throws.
std::string dump_json(const json& value);

struct decoder_limits {
  std::size_t max_attachments = 10;
  /// Deeper JSON is refused before parsing, so hostile input cannot exhaust the stack.
  int max_depth = 100;
  /// Members of one JSON object, and values in one packet (0: no limit).
  /// Parsing is linear either way (json_parse.hpp); these bound the memory a
  /// packet can make the server allocate.
  std::size_t max_object_members = 100000;
  std::size_t max_values = 1000000;
};

/// Incremental decoder for one client: a BINARY_* packet is complete only
/// after its attachments arrived. With wire_format::msgpack every packet is one
/// binary message and a text message is an error. Never throws; after an
/// error the decoder is reset and error() says why (the caller closes the session).
class decoder {
public:
  enum class status { complete, need_binary, error };

  explicit decoder(decoder_limits limits = {}, wire_format format = wire_format::json)
    : limits_(limits), format_(format) {}

  status feed_text(std::string_view text);
  status feed_binary(std::string_view bytes);

  /// The packet after `complete`; moves it out.
  packet take();
  const std::string& error() const noexcept { return error_; }
  bool reconstructing() const noexcept { return pending_.has_value(); }

private:
  status fail(std::string reason);
  status feed_msgpack(std::string_view bytes);

  decoder_limits limits_;
  wire_format format_;
  std::optional<packet> pending_;
  std::size_t expected_attachments_ = 0;
  std::vector<std::string> attachments_;
  std::optional<packet> ready_;
  std::string error_;
};

/// Checks a decoded payload as socket.io-parser does (CONNECT: object;
/// DISCONNECT: none; CONNECT_ERROR: string or object; EVENT: array whose first
/// element is a non-reserved event name or a number; ACK: array).
bool is_payload_valid(packet_type type, const json& payload);

} // namespace sio::socketio
