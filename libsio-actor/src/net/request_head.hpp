// What the --workers primary reads of a connection's first request head.
#pragma once

#include <string>
#include <string_view>

namespace sio::net {

/// The `sid` query parameter of a request head ("GET /socket.io/?...&sid=X HTTP/1.1\r\n...");
/// empty when the head has no request line with a target or no sid. Untrusted input: never
/// throws, linear in the head's size.
std::string sid_of_request_head(std::string_view head);

} // namespace sio::net
