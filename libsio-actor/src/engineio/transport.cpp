#include "engineio/transport.hpp"

#include <atomic>

namespace sio::engineio {

std::uint64_t new_channel_id() {
  static std::atomic<std::uint64_t> next{1};
  return next++;
}

} // namespace sio::engineio
