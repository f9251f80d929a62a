// Picks one of several targets (I/O shards, worker processes) by a
// balance_method. Plain logic with no I/O, so the acceptor actors stay small
// and the choice can be unit-tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "sio/balance.hpp"

namespace sio::net {

class balancer {
public:
  explicit balancer(balance_method method, std::uint64_t seed = std::random_device{}());

  /// The index of the target to use, given each target's live load.
  /// `loads` must not be empty.
  std::size_t pick(const std::vector<std::size_t>& loads);

  balance_method method() const noexcept { return method_; }

private:
  balance_method method_;
  std::size_t next_ = 0; // round-robin position; also breaks least-connection ties
  std::mt19937_64 rng_;
};

} // namespace sio::net
