#pragma once
// Opt-in diagnostics: SIO_DEBUG=1 in the environment makes the library log
// why sessions and connections end (one line each, to stderr). Off by default:
// a busy server closes thousands of sessions a second.

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace sio::util {

inline bool debug_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("SIO_DEBUG");
    return v != nullptr && *v != '\0' && *v != '0';
  }();
  return enabled;
}

/// Writes "sio-actor: " and the arguments as one line (one write, so lines
/// from several threads do not interleave).
template <class... Ts>
void debug_log(const Ts&... xs) {
  if (!debug_enabled())
    return;
  std::ostringstream line;
  line << "sio-actor: ";
  (line << ... << xs);
  line << '\n';
  std::cerr << line.str() << std::flush;
}

} // namespace sio::util
