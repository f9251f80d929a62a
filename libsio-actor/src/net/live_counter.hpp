// Counts live connections per I/O shard (or worker): a live_connection token
// travels with a connection (HTTP, then WebSocket) and uncounts it when the
// last owner lets go.
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
    return *this;
  }
  live_connection(const live_connection&) = delete;
  live_connection& operator=(const live_connection&) = delete;
  ~live_connection() { release(); }

private:
  void release() {
    if (counter_)
      std::exchange(counter_, nullptr)->fetch_sub(1, std::memory_order_relaxed);
  }
  live_counter counter_;
};

} // namespace sio::net
