// The rate limit on the library's log lines (util/debug_log.*), on a clock
// the test moves by hand.
#include "util/debug_log.hpp"

#include <catch2/catch.hpp>

#include <string>

using sio::util::log_limiter;

namespace {

std::size_t count_lines(const std::string& text) {
  std::size_t n = 0;
  for (char c : text)
    n += c == '\n';
  return n;
}

} // namespace

TEST_CASE("log limiter: a few lines of a kind per second, then a summary", "[log]") {
  log_limiter limiter;
  auto t0 = log_limiter::clock::now();
  std::string written;
  for (int i = 0; i < 50000; ++i)
    written += limiter.admit("closing session\x1f", "closing session X: empty packet", t0);
  CHECK(count_lines(written) == sio::util::log_burst);

  // The next second: the summary, then the line.
  auto next = limiter.admit("closing session\x1f", "closing session Y: empty packet",
                            t0 + sio::util::log_window);
  CHECK(next == "sio-actor: (" + std::to_string(50000 - sio::util::log_burst)
                  + " more like \"closing session X: empty packet\" suppressed)\n"
                  + "closing session Y: empty packet\n");
}

TEST_CASE("log limiter: kinds are limited separately", "[log]") {
  log_limiter limiter;
  auto t0 = log_limiter::clock::now();
  for (unsigned i = 0; i < sio::util::log_burst + 3; ++i)
    limiter.admit("a", "line a", t0);
  // Another kind still gets through in the same second.
  CHECK(limiter.admit("b", "line b", t0) == "line b\n");
  // A summary of "a" comes with the next line of any kind after its window.
  auto later = limiter.admit("b", "line b2", t0 + std::chrono::milliseconds{1500});
  CHECK(later == "sio-actor: (3 more like \"line a\" suppressed)\nline b2\n");
  // Only once.
  CHECK(limiter.admit("b", "line b3", t0 + std::chrono::milliseconds{1600}) == "line b3\n");
}

TEST_CASE("log limiter: lines under the limit are written as they come", "[log]") {
  log_limiter limiter;
  auto t = log_limiter::clock::now();
  for (int i = 0; i < 20; ++i) {
    t += std::chrono::milliseconds{300}; // ~3 per second: under the burst
    CHECK(limiter.admit("k", "line", t) == "line\n");
  }
}
