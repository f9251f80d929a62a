// Counts live connections per I/O shard (or worker): a live_connection token
// travels with a connection (HTTP, then WebSocket) and uncounts it when the
// last owner lets go. It can carry other per-connection guards along.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>

namespace sio::net {

using live_counter = std::shared_ptr<std::atomic<std::size_t>>;

class live_connection {
public:
  live_connection() = default;
  explicit live_connection(live_counter c) : counter_(std::move(c)) {
    if (counter_)
      counter_->fetch_add(1, std::memory_order_relaxed);
  }
  live_connection(live_connection&& other) noexcept = default;
  live_connection& operator=(live_connection&& other) noexcept {
    release();
    counter_ = std::move(other.counter_);
    guard_ = std::move(other.guard_);
    return *this;
  }
  live_connection(const live_connection&) = delete;
  live_connection& operator=(const live_connection&) = delete;
  ~live_connection() { release(); }

  /// Also keeps `guard` until the connection ends (e.g. its slot in the
  /// per-address limit, listen_options::max_connections_per_ip).
  void hold(std::shared_ptr<const void> guard) { guard_ = std::move(guard); }

private:
  void release() {
    if (counter_)
      std::exchange(counter_, nullptr)->fetch_sub(1, std::memory_order_relaxed);
    guard_.reset();
  }
  live_counter counter_;
  std::shared_ptr<const void> guard_;
};

} // namespace sio::net
