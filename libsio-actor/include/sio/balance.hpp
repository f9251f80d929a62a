// How an acceptor spreads new connections (or sessions) over its targets:
// I/O shards in one process, worker processes under a primary.
#pragma once

#include <optional>
#include <string_view>

namespace sio {

enum class balance_method {
  least_connection, ///< the target with the fewest live connections (ties: in turn)
  round_robin,      ///< each target in turn
  random,           ///< a uniformly random target
};

/// "least-connection", "round-robin" or "random"; nullopt for anything else.
std::optional<balance_method> parse_balance(std::string_view name);
const char* to_string(balance_method m) noexcept;

} // namespace sio
