// One message sent to a room, as its room actor sees it (sio/room.hpp): the
// encoded broadcast every member's session got, shared, not copied. The event
// name and arguments are decoded from it only when asked for. A value: keep
// copies (in a room's history, say); one object is for one thread at a time.
#pragma once

#include <memory>
#include <string>

#include <caf/message.hpp>

#include "sio/json.hpp"

namespace sio {

class room_message {
public:
  /// `encoded`: (engineio::send_atom, vector<engineio::packet_ptr>, is_volatile),
  /// the message the adapter enqueued into each member's session.
  explicit room_message(caf::message encoded) : encoded_(std::move(encoded)) {}

  /// The event name; decoded (once per copy of this object) on first use.
  const std::string& event() const;
  /// The event's arguments, a JSON array (binary attachments as json::binary).
  const json& args() const;
  /// Sent with volatile_(): clients that could not take it at once dropped it.
  bool is_volatile() const;
  /// The shared encoded form; room::replay() sends it to one socket as it is.
  const caf::message& encoded() const noexcept { return encoded_; }

private:
  struct decoded {
    std::string event;
    json args = json::array();
  };
  const decoded& decode() const;

  caf::message encoded_;
  mutable std::shared_ptr<const decoded> decoded_;
};

} // namespace sio
