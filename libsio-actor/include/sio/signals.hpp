// Blocking until the process is asked to stop, for an app's main thread.
#pragma once

namespace sio {

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and in every thread it
/// starts afterwards. Call it first thing in main(), before the actor system
/// and the I/O threads exist, so the signals reach wait_for_shutdown_signal().
void block_shutdown_signals();

/// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
/// Call it from the main thread; it blocks those signals in the calling thread.
int wait_for_shutdown_signal();

} // namespace sio
