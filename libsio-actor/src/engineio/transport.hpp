// What a session actor sees of the network: two small interfaces implemented
// in net/ on top of Boost.Asio and Beast. Every method is thread-safe and
// never blocks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "engineio/packet.hpp"

namespace sio::engineio {

/// An HTTP long-polling GET waiting for its answer. Answer it exactly once.
class poll_responder {
public:
  virtual ~poll_responder() = default;
  /// 200 with an encoded payload (text/plain; charset=UTF-8).
  virtual void send_payload(std::string payload) = 0;
  /// 200 with a binary payload (application/octet-stream): Engine.IO v3's
  /// XHR2 framing. Never asked of a relayed() GET.
  virtual void send_binary_payload(std::string payload) = 0;
  /// An error status with a JSON body, e.g. 400 {"code":3,"message":"Bad request"}.
  virtual void send_error(unsigned status, std::string json_body) = 0;
  /// True for a GET relayed by another node: a second GET of the session then
  /// most likely retries one whose relay died (a proxy retries idempotent
  /// requests), and replaces it instead of closing the session.
  virtual bool relayed() const noexcept { return false; }
};

/// A WebSocket connection carrying one Engine.IO session.
class ws_channel {
public:
  virtual ~ws_channel() = default;
  /// Distinguishes the frames of an upgrade probe from those of the active transport.
  virtual std::uint64_t id() const noexcept = 0;
  /// Starts reading; frames arrive at `session` as (ws_frame_atom, id, data,
  /// is_binary), the end as (ws_closed_atom, id, reason). Idempotent.
  virtual void attach(caf::actor session) = 0;
  /// Queues packets, one frame each. A volatile batch is dropped when the
  /// socket is busy writing; past the queue limit the connection is closed.
  virtual void send(std::vector<packet_ptr> packets, bool is_volatile) = 0;
  /// Closes after what is queued has been written.
  virtual void close() = 0;
};

/// A process-wide unique id for a new ws_channel.
std::uint64_t new_channel_id();

} // namespace sio::engineio
