// Which Socket.IO parser a server speaks: Node's `parser` option.
#pragma once

namespace sio {

/// `json`: socket.io-parser, Node's default (a text packet of JSON, binary
/// values as attachments). `msgpack`: socket.io-msgpack-parser (one binary
/// MessagePack message per packet; clients need the same parser). Every
/// client and every node of a cluster must use the same one.
enum class wire_format { json, msgpack };

} // namespace sio
