// Blocking until the process is asked to stop, for an app's main thread.
#pragma once

namespace sio {

/// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
/// Call it from the main thread; it blocks those signals in the calling thread.
int wait_for_shutdown_signal();

} // namespace sio
