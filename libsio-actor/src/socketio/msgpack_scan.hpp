// A structural check of untrusted MessagePack before it is parsed.
//
// nlohmann's MessagePack reader recurses once per nesting level and trusts the
// counts in array and map headers; this scan walks the bytes without
// recursion and refuses what would hurt it: nesting deeper than `max_depth`,
// a length or count larger than the bytes that are left (a 4 GiB string
// header in a 10-byte packet), the reserved byte 0xc1, and bytes after the
// value. Linear in the input.
#pragma once

#include <string>
#include <string_view>

namespace sio::socketio {

/// True if `bytes` is exactly one MessagePack value within the limits;
/// otherwise false and `error` says why.
bool msgpack_shape_ok(std::string_view bytes, int max_depth, std::string& error);

} // namespace sio::socketio
