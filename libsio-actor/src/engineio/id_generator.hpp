// Random, URL-safe identifiers for sessions and sockets (as Node's base64id:
// 15 random bytes, base64 with '+' -> '-' and '/' -> '_', 20 characters).
// The bytes come from the kernel's CSPRNG (getrandom(2)): an id must not be
// predictable from any number of other ids, which a seeded PRNG such as
// mt19937 cannot promise (its state is recoverable from its output).
#pragma once

#include <cstddef>
#include <string>

namespace sio::engineio {

/// Random bytes in one id (120 bits), and the length of its text form.
constexpr std::size_t id_random_bytes = 15;
constexpr std::size_t id_length = 20;

/// A new id: `id_length` characters of [A-Za-z0-9_-]. Thread-safe.
std::string generate_id();

/// Fills `out` with bytes from the OS CSPRNG, through a small per-thread
/// buffer (one system call per ~17 ids). There is no fallback to a PRNG: if
/// the kernel cannot deliver (getrandom and /dev/urandom both fail), the
/// process aborts with a message rather than hand out guessable ids.
void random_bytes(void* out, std::size_t n);

} // namespace sio::engineio
