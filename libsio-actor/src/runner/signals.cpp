#include "sio/signals.hpp"

#include <csignal>

namespace sio {

namespace {
sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
} // namespace

void block_shutdown_signals() {
  auto set = shutdown_signals();
  // SIGHUP too: a primary process waits for it (rolling restart); anywhere
  // else it stays pending instead of killing the process.
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_shutdown_signal() {
  auto set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

} // namespace sio
