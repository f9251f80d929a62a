// Splitting a request target into path and decoded query parameters (in util:
// the HTTP layer parses targets, Socket.IO v2 clients put a query in the namespace).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace sio::util {

struct target {
  std::string path;
  std::map<std::string, std::string> query;
};

/// "/socket.io/?EIO=4&transport=polling" -> {"/socket.io/", {EIO:4, transport:polling}}.
/// Percent-escapes and '+' are decoded; a malformed escape is kept as is.
target parse_target(std::string_view raw);

std::string percent_decode(std::string_view s);

} // namespace sio::util
