#include "net/balancer.hpp"

#include <string_view>

namespace sio {

std::optional<balance_method> parse_balance(std::string_view name) {
  if (name == "least-connection")
    return balance_method::least_connection;
  if (name == "round-robin")
    return balance_method::round_robin;
  if (name == "random")
    return balance_method::random;
  return std::nullopt;
}

const char* to_string(balance_method m) noexcept {
  switch (m) {
    case balance_method::least_connection:
      return "least-connection";
    case balance_method::round_robin:
      return "round-robin";
    case balance_method::random:
      return "random";
  }
  return "?";
}

} // namespace sio

namespace sio::net {

balancer::balancer(balance_method method, std::uint64_t seed) : method_(method), rng_(seed) {
}

std::size_t balancer::pick(const std::vector<std::size_t>& loads) {
  const auto n = loads.size();
  switch (method_) {
    case balance_method::round_robin:
      return next_++ % n;
    case balance_method::random:
      return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng_);
    case balance_method::least_connection:
      break;
  }
  // The least loaded, searching from where the last pick left off: with equal
  // loads (a burst of connects before any count moved) targets take turns.
  std::size_t best = next_ % n;
  for (std::size_t k = 1; k < n; ++k) {
    auto i = (next_ + k) % n;
    if (loads[i] < loads[best])
      best = i;
  }
  next_ = best + 1;
  return best;
}

} // namespace sio::net
