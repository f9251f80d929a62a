// RFC 6455 framing as a server speaks it: parses the client's (masked) frames
// into messages and control frames, and writes (unmasked) frame headers.
// No I/O here; websocket_connection feeds bytes in and writes frames out.
// Beast does the HTTP upgrade; after it, frames are ours so that queued
// packets go out in one system call and an idle connection keeps no buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sio::net::ws {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Close codes the server sends.
enum close_code : std::uint16_t {
  normal = 1000,
  protocol_error = 1002,
  invalid_payload = 1007, // text that is not UTF-8
  too_big = 1009,
};

/// The header of a final, unmasked frame carrying `payload_size` bytes.
struct frame_header {
  std::array<std::uint8_t, 10> bytes;
  std::uint8_t size;
};
frame_header make_frame_header(opcode op, std::size_t payload_size) noexcept;

/// The payload of a close frame: the code, big-endian.
std::string close_payload(std::uint16_t code);

/// True if `s` is valid UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

/// For UTF-8 that may stop inside a code point (a fragment of a text message):
/// the length of the complete code points at its start if the rest is a valid
/// beginning of one, npos if no continuation can make `s` valid.
std::size_t utf8_complete_prefix(std::string_view s) noexcept;

/// True if a peer may send `code` in a close frame (RFC 6455 7.4, IANA registry).
bool valid_close_code(std::uint16_t code) noexcept;

/// What the parser found in the bytes fed to it.
class frame_sink {
public:
  virtual ~frame_sink() = default;
  /// A complete data message (fragments joined). May be moved from.
  virtual void on_message(std::string& data, bool binary) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  /// The peer's close frame: a valid_close_code, or 1005 if it carried none.
  /// A close frame with a bad code or a reason that is not UTF-8 is an error.
  virtual void on_close(std::uint16_t code) = 0;
  /// The peer broke the protocol; answer with a close frame of `code`.
  virtual void on_error(close_code code, const char* what) = 0;
};

/// Incremental parser of client-to-server frames. Keeps only an incomplete
/// frame's bytes between calls, so an idle connection costs nothing here.
class frame_parser {
public:
  explicit frame_parser(std::size_t max_message_bytes) : max_message_(max_message_bytes) {
  }

  /// Parses what can be parsed; stops after on_close or on_error (then
  /// ignores everything fed later).
  void feed(const char* data, std::size_t size, frame_sink& sink);

  /// Buffered bytes of a frame or message still incomplete.
  std::size_t buffered() const noexcept { return partial_.size() + message_.size(); }

private:
  /// Parses whole frames from [data, data+size); returns the bytes used.
  std::size_t parse_all(const char* data, std::size_t size, frame_sink& sink);
  /// Parses one frame from [data, data+size); returns bytes used, 0 if incomplete.
  std::size_t parse_one(const char* data, std::size_t size, frame_sink& sink);
  void fail(frame_sink& sink, close_code code, const char* what);

  std::size_t max_message_;
  std::string partial_; // bytes of a frame not complete yet
  std::string message_; // fragments of a message not complete yet
  bool in_message_ = false;
  bool message_binary_ = false;
  std::size_t utf8_checked_ = 0; // bytes of message_ known to be whole, valid code points
  bool done_ = false;
};

} // namespace sio::net::ws
