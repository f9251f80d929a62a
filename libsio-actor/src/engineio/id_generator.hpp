// Random, URL-safe identifiers for sessions and sockets (as Node's base64id:
// 15 random bytes, base64 with '+' -> '-' and '/' -> '_', 20 characters).
#pragma once

#include <string>

namespace sio::engineio {
std::string generate_id();
} // namespace sio::engineio
