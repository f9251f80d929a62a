// Parsing untrusted JSON (and MessagePack) in linear time, into sio::json (ordered_json).
//
// nlohmann's own parser inserts each member of an ordered_json object with
// ordered_map::operator[], a linear scan for a duplicate: one object with n
// keys costs O(n^2) (a 930 KB packet of distinct keys took ~7 s of CPU). This
// SAX-driven parser appends members instead and finds duplicates with a hash
// index once an object is no longer small. Keys keep the client's order; a
// repeated key keeps its first position and takes the last value, as
// JSON.parse does.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sio/json.hpp"

namespace sio::socketio {

struct json_limits {
  /// Members one object may have (0: no limit).
  std::size_t max_object_members = 100000;
  /// Values in the whole text: every scalar, array and object counts (0: no limit).
  std::size_t max_values = 1000000;
};

/// What a parse cost, for tests that check it is linear.
struct json_parse_stats {
  /// Values created (scalars, arrays and objects).
  std::size_t values = 0;
  /// Key comparisons and hashes made to find duplicate keys.
  std::size_t key_probes = 0;
};

/// Parses `text` as one JSON value. Never throws: on malformed input or a
/// limit exceeded it returns nullopt and says why in `error`. Nesting depth is
/// the caller's to check first (the parser recurses on nothing, but the
/// result's destructor does).
std::optional<json> parse_json(std::string_view text, const json_limits& limits,
                               std::string& error, json_parse_stats* stats = nullptr);

/// Parses one MessagePack value (a socket.io-msgpack-parser packet) the same
/// way, with the same limits. Check it with msgpack_shape_ok first
/// (msgpack_scan.hpp): nlohmann's MessagePack reader recurses and trusts the
/// counts in headers. Extension values (notepack's `undefined`, dates) become
/// null, as JSON.stringify writes undefined in an array.
std::optional<json> parse_msgpack(std::string_view bytes, const json_limits& limits,
                                  std::string& error, json_parse_stats* stats = nullptr);

/// `text` with every lone UTF-16 surrogate escape in its strings ("\\ud83d"
/// without its low half, or a low half alone) replaced by "\\ufffd"; nullopt
/// when there is none (the common case: no copy). Linear.
std::optional<std::string> replace_lone_surrogates(std::string_view text);

} // namespace sio::socketio
