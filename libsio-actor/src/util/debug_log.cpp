#include "util/debug_log.hpp"

#include <unistd.h>

#include <cerrno>

namespace sio::util {

namespace {
constexpr std::size_t max_kinds = 256;
} // namespace

std::string log_limiter::admit(const std::string& kind, const std::string& line,
                               clock::time_point now) {
  std::lock_guard<std::mutex> guard{mutex_};
  std::string out;
  // Windows that ended with lines suppressed get their summary now, whatever
  // kind of line comes next (there are only as many kinds as log calls).
  for (auto& [k, b] : buckets_) {
    if (b.suppressed > 0 && now - b.window_start >= log_window) {
      out += "sio-actor: (" + std::to_string(b.suppressed) + " more like \"" + b.last_suppressed
             + "\" suppressed)\n";
      b.suppressed = 0;
    }
  }
  // Kinds come from the code's string literals, so there are few; should a
  // caller pass a variable C string, excess kinds share one bucket.
  auto it = buckets_.find(kind);
  if (it == buckets_.end())
    it = buckets_.emplace(buckets_.size() < max_kinds ? kind : std::string{}, bucket{}).first;
  auto& b = it->second;
  if (b.written == 0 || now - b.window_start >= log_window) {
    b.window_start = now;
    b.written = 0;
  }
  if (b.written >= log_burst) {
    ++b.suppressed;
    b.last_suppressed = line;
    return out;
  }
  ++b.written;
  out += line;
  out += '\n';
  return out;
}

log_limiter& log_limiter::global() {
  static auto* limiter = new log_limiter; // never destroyed: threads may log during exit
  return *limiter;
}

void write_stderr(const std::string& text) {
  const char* p = text.data();
  auto left = text.size();
  while (left > 0) {
    auto n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; // stderr closed or full: diagnostics are not worth blocking for
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

} // namespace sio::util
