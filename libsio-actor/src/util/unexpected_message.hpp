// The default handler of our actors: a message nobody handles is dropped (a
// request gets sec::unexpected_message back, as with caf::drop) and, with
// SIO_DEBUG=1, logged, so a protocol mismatch does not vanish silently.
#pragma once

#include <caf/message_view.hpp>
#include <caf/result.hpp>
#include <caf/scheduled_actor.hpp>

#include "util/debug_log.hpp"

namespace sio::util {

inline caf::result<caf::message> log_unexpected(caf::scheduled_actor* self, caf::message_view& mv) {
  if (debug_enabled())
    debug_log("unexpected message in ", self->name(), ": ",
              caf::to_string(mv.copy_content_to_message()));
  return caf::drop(self, mv);
}

} // namespace sio::util
