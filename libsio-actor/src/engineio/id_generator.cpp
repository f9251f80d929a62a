#include "engineio/id_generator.hpp"

#include <array>
#include <random>

#include "engineio/packet.hpp"

namespace sio::engineio {

std::string generate_id() {
  // One generator per thread, seeded from the OS: ids must not be guessable
  // from each other, and a lock here would serialise every handshake.
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64{seq};
  }()};
  std::array<char, 15> bytes{};
  for (std::size_t i = 0; i < bytes.size(); i += 5) {
    auto r = rng();
    for (std::size_t j = 0; j < 5; ++j)
      bytes[i + j] = static_cast<char>((r >> (8 * j)) & 0xff);
  }
  auto id = base64_encode(std::string_view{bytes.data(), bytes.size()});
  for (auto& c : id) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return id;
}

} // namespace sio::engineio
