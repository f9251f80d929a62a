// Open connections per client IP address (listen_options::max_connections_per_ip).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sio::net {

class address_limiter : public std::enable_shared_from_this<address_limiter> {
public:
  explicit address_limiter(std::size_t max_per_address) : max_(max_per_address) {}

  /// A slot for one connection from `address`, held until the returned guard
  /// is destroyed; null if the address already has `max_per_address`.
  std::shared_ptr<const void> try_acquire(const std::string& address) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      auto& n = counts_[address];
      if (n >= max_) {
        if (n == 0)
          counts_.erase(address);
        return nullptr;
      }
      ++n;
    }
    auto self = shared_from_this();
    // Points at the limiter (never null, so a slot tests true); the deleter
    // gives the slot back.
    return std::shared_ptr<const void>(self.get(), [self, address](const void*) {
      self->release(address);
    });
  }

  /// Connections open from `address` now.
  std::size_t count(const std::string& address) const {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = counts_.find(address);
    return i == counts_.end() ? 0 : i->second;
  }

private:
  void release(const std::string& address) {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = counts_.find(address);
    if (i != counts_.end() && --i->second == 0)
      counts_.erase(i); // the map holds only addresses with open connections
  }

  const std::size_t max_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> counts_;
};

} // namespace sio::net
