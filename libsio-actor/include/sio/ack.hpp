// Acknowledgements: answering a client's ack request, and the result of our
// own emit-with-ack.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "sio/json.hpp"

namespace sio {

/// Answers one ack request from a client. Empty when the client asked for
/// none. Copies share one state: only the first call sends.
class ack_handle {
public:
  ack_handle() = default;
  explicit ack_handle(std::function<void(json)> send)
    : send_(std::make_shared<std::function<void(json)>>(std::move(send))) {}

  /// True if the client waits for an answer.
  bool requested() const noexcept { return send_ && *send_; }

  /// Sends the answer; `args` is the array of arguments the client's callback gets.
  void operator()(json args = json::array()) const {
    if (!requested())
      return;
    auto fn = std::move(*send_);
    *send_ = nullptr;
    if (!args.is_array())
      args = json::array({std::move(args)});
    fn(std::move(args));
  }

private:
  std::shared_ptr<std::function<void(json)>> send_;
};

/// What a client answered to our emit-with-ack, or why it did not.
struct ack_result {
  /// Empty on success; otherwise "operation has timed out" or
  /// "socket has been disconnected".
  std::string error;
  /// The client's ack arguments (an array).
  json args = json::array();
  bool ok() const noexcept { return error.empty(); }
};

using ack_callback = std::function<void(ack_result)>;

/// Result of a broadcast with ack: one entry per client that answered.
struct broadcast_ack_result {
  /// Empty if every client answered in time; "operation has timed out" otherwise.
  std::string error;
  /// Each answering client's first ack argument (as Node), in arrival order.
  std::vector<json> responses;
  bool ok() const noexcept { return error.empty(); }
};

using broadcast_ack_callback = std::function<void(broadcast_ack_result)>;

} // namespace sio
