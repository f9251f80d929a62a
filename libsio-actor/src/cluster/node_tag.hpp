// Which node owns a session: in a cluster, every sid starts with a short tag
// derived from its node's cluster address ("<tag>.<random>"), so any node can
// send a request for that sid to the right member without asking around.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sio::cluster {

constexpr std::size_t node_tag_length = 6;

/// Six URL-safe characters (36 bits of an FNV-1a hash of the address).
inline std::string node_tag(std::string_view address) {
  static constexpr char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : address) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::string tag;
  for (std::size_t i = 0; i < node_tag_length; ++i, h >>= 6)
    tag.push_back(alphabet[h & 63]);
  return tag;
}

/// The sid prefix of the node at `address`.
inline std::string sid_prefix(std::string_view address) {
  return node_tag(address) + ".";
}

/// The tag of a node's sid prefix ("" for a node outside any cluster).
inline std::string tag_of_prefix(std::string_view prefix) {
  return prefix.size() == node_tag_length + 1 ? std::string{prefix.substr(0, node_tag_length)}
                                              : std::string{};
}

/// The tag a sid carries, or "" for a sid from a node outside any cluster.
inline std::string_view tag_of_sid(std::string_view sid) {
  if (sid.size() <= node_tag_length || sid[node_tag_length] != '.')
    return {};
  return sid.substr(0, node_tag_length);
}

} // namespace sio::cluster
