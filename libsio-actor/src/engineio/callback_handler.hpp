// Adapts the public engine_handlers callbacks to the session_handler interface.
#pragma once

#include <memory>

#include "engineio/session_handler.hpp"
#include "sio/engine.hpp"

namespace sio::engineio {

handler_factory make_callback_handler_factory(engine_handlers handlers);

} // namespace sio::engineio
