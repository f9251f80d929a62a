// Session and socket ids: format, uniqueness, and a statistical sanity check
// of the random bytes with bounds so wide that a true CSPRNG never fails them
// (they catch a broken source: constant, zeroed, or byte-biased output).
#include "engineio/id_generator.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "cluster/node_tag.hpp"
#include "engineio/packet.hpp"

using namespace sio::engineio;

namespace {

bool url_safe(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
         || c == '_';
}

/// The 15 bytes behind an id (base64url back to base64, then decoded).
std::string id_bytes(std::string id) {
  for (auto& c : id) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
  }
  auto bytes = base64_decode(id);
  return bytes ? *bytes : std::string{};
}

} // namespace

TEST_CASE("ids: 20 URL-safe characters carrying 120 random bits", "[ids]") {
  for (int i = 0; i < 1000; ++i) {
    auto id = generate_id();
    REQUIRE(id.size() == id_length);
    for (char c : id)
      REQUIRE(url_safe(c));
    REQUIRE(id_bytes(id).size() == id_random_bytes);
  }
}

TEST_CASE("ids: a cluster sid is the node tag, a dot and an id", "[ids]") {
  auto prefix = sio::cluster::sid_prefix("127.0.0.1:4000");
  auto sid = prefix + generate_id();
  CHECK(sid.size() == sio::cluster::node_tag_length + 1 + id_length);
  CHECK(sio::cluster::tag_of_sid(sid) == sio::cluster::node_tag("127.0.0.1:4000"));
  // Without a prefix an id is never taken for a tagged one ('.' is not in the alphabet).
  CHECK(sio::cluster::tag_of_sid(generate_id()).empty());
}

TEST_CASE("ids: no repeats across many ids and threads", "[ids]") {
  constexpr int per_thread = 50000;
  std::vector<std::vector<std::string>> made(4);
  std::vector<std::thread> threads;
  for (auto& out : made)
    threads.emplace_back([&out] {
      out.reserve(per_thread);
      for (int i = 0; i < per_thread; ++i)
        out.push_back(generate_id());
    });
  for (auto& t : threads)
    t.join();
  std::unordered_set<std::string> seen;
  for (auto& out : made)
    for (auto& id : out)
      REQUIRE(seen.insert(id).second);
  CHECK(seen.size() == 4u * per_thread);
}

TEST_CASE("ids: every bit position is balanced", "[ids]") {
  // 100,000 ids: each of the 120 bit positions is set ~50,000 times with a
  // standard deviation of ~158. The bound (+-5,000, over 30 sigma) cannot
  // flake for a real random source; a stuck or biased bit misses it by far.
  constexpr int n = 100000;
  std::array<int, id_random_bytes * 8> ones{};
  std::array<int, 256> byte_values{};
  for (int i = 0; i < n; ++i) {
    auto bytes = id_bytes(generate_id());
    REQUIRE(bytes.size() == id_random_bytes);
    for (std::size_t b = 0; b < bytes.size(); ++b) {
      auto v = static_cast<unsigned char>(bytes[b]);
      ++byte_values[v];
      for (int bit = 0; bit < 8; ++bit)
        ones[b * 8 + static_cast<std::size_t>(bit)] += (v >> bit) & 1;
    }
  }
  for (auto count : ones) {
    CHECK(count > n / 2 - 5000);
    CHECK(count < n / 2 + 5000);
  }
  // 1.5 M bytes: each value ~5,859 times (sd ~76); every value must appear
  // and none may be twice as common as it should be.
  for (auto count : byte_values) {
    CHECK(count > 2000);
    CHECK(count < 12000);
  }
}

TEST_CASE("ids: random_bytes fills any length", "[ids]") {
  std::vector<unsigned char> big(10000, 0);
  random_bytes(big.data(), big.size()); // more than the per-thread buffer
  int zeros = 0;
  for (auto b : big)
    zeros += b == 0;
  CHECK(zeros < 200); // ~39 expected
  unsigned char none = 0x5a;
  random_bytes(&none, 0);
  CHECK(none == 0x5a);
}
