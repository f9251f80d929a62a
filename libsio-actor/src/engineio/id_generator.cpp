#include "engineio/id_generator.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "engineio/packet.hpp"

namespace sio::engineio {

namespace {

[[noreturn]] void entropy_failure(const char* what, int err) {
  std::fprintf(stderr, "sio-actor: cannot read the OS random generator (%s: %s); "
                       "refusing to make guessable session ids\n",
               what, std::strerror(err));
  std::abort();
}

/// For a kernel without getrandom(2) (before 3.17): /dev/urandom is the same CSPRNG.
void read_urandom(unsigned char* out, std::size_t n) {
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    entropy_failure("open /dev/urandom", errno);
  while (n > 0) {
    auto got = ::read(fd, out, n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      int err = got < 0 ? errno : EIO;
      ::close(fd);
      entropy_failure("read /dev/urandom", err);
    }
    out += got;
    n -= static_cast<std::size_t>(got);
  }
  ::close(fd);
}

void os_random(unsigned char* out, std::size_t n) {
  while (n > 0) {
    // Flags 0: the urandom pool, blocking only until it was first seeded at boot.
    auto got = ::getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      if (errno == ENOSYS) {
        read_urandom(out, n);
        return;
      }
      entropy_failure("getrandom", errno);
    }
    out += got;
    n -= static_cast<std::size_t>(got);
  }
}

/// Bumped in a forked child, so that it never reuses bytes its parent
/// buffered (two processes would hand out the same ids).
std::atomic<unsigned> fork_generation{0};

/// Random bytes buffered per thread: one system call serves many ids.
struct random_pool {
  std::array<unsigned char, 256> bytes{};
  std::size_t used = bytes.size();
  unsigned generation = 0;

  void take(unsigned char* out, std::size_t n) {
    static std::once_flag at_fork;
    std::call_once(at_fork, [] {
      ::pthread_atfork(nullptr, nullptr,
                       [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
    });
    auto gen = fork_generation.load(std::memory_order_relaxed);
    if (gen != generation) {
      generation = gen;
      used = bytes.size();
    }
    while (n > 0) {
      if (used == bytes.size()) {
        os_random(bytes.data(), bytes.size());
        used = 0;
      }
      auto k = std::min(n, bytes.size() - used);
      std::memcpy(out, bytes.data() + used, k);
      // Handed-out bytes do not stay in memory for a later reader to find.
      std::memset(bytes.data() + used, 0, k);
      used += k;
      out += k;
      n -= k;
    }
  }
};

} // namespace

void random_bytes(void* out, std::size_t n) {
  thread_local random_pool pool;
  pool.take(static_cast<unsigned char*>(out), n);
}

std::string generate_id() {
  std::array<char, id_random_bytes> bytes{};
  random_bytes(bytes.data(), bytes.size());
  auto id = base64_encode(std::string_view{bytes.data(), bytes.size()});
  for (auto& c : id) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return id;
}

} // namespace sio::engineio
