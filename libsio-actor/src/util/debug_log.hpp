#pragma once
// The library's diagnostics on stderr.
//
// * log_line(...): always written (a malformed packet, a handler that threw).
// * debug_log(...): only with SIO_DEBUG=1 in the environment (why sessions and
//   connections end; a busy server closes thousands of sessions a second).
//
// Both are rate-limited per kind of line, so a client cannot flood the log:
// lines made from the same string literals (the variable parts - sids,
// reasons - aside) are one kind, of which at most `log_burst` lines are
// written per second. The rest are counted, and the next line written after
// that second is preceded by '(N more like "<line>" suppressed)'.

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_map>

namespace sio::util {

inline bool debug_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("SIO_DEBUG");
    return v != nullptr && *v != '\0' && *v != '0';
  }();
  return enabled;
}

/// Lines of one kind written per window before the rest are suppressed.
constexpr unsigned log_burst = 5;
constexpr std::chrono::milliseconds log_window{1000};

/// The rate limit, per kind of line. Thread-safe.
class log_limiter {
public:
  using clock = std::chrono::steady_clock;

  /// What to write for `line` of kind `kind` at `now`: the line itself, or
  /// nothing if it is suppressed; either way preceded by the summaries of
  /// windows that have ended with lines suppressed.
  std::string admit(const std::string& kind, const std::string& line, clock::time_point now);

  /// The process-wide limiter that log_line and debug_log use.
  static log_limiter& global();

private:
  struct bucket {
    clock::time_point window_start;
    unsigned written = 0;
    std::size_t suppressed = 0;
    std::string last_suppressed;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;
};

/// Writes `text` (whole lines) to stderr with one write, so lines from
/// several threads do not interleave.
void write_stderr(const std::string& text);

namespace detail {

template <class T>
void add_kind(std::string& kind, const T& x) {
  // String literals (and other C strings) are the fixed part of a line.
  if constexpr (std::is_convertible_v<const T&, const char*>) {
    kind += static_cast<const char*>(x);
    kind += '\x1f';
  }
}

} // namespace detail

/// Writes "sio-actor: " and the arguments as one line, rate-limited.
template <class... Ts>
void log_line(const Ts&... xs) {
  std::ostringstream line;
  line << "sio-actor: ";
  (line << ... << xs);
  std::string kind;
  (detail::add_kind(kind, xs), ...);
  auto text = log_limiter::global().admit(kind, line.str(), log_limiter::clock::now());
  if (!text.empty())
    write_stderr(text);
}

/// log_line, with SIO_DEBUG set only.
template <class... Ts>
void debug_log(const Ts&... xs) {
  if (debug_enabled())
    log_line(xs...);
}

} // namespace sio::util
