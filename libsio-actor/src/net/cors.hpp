// CORS headers as Node's `cors` package writes them for socket.io's `cors` option.
#pragma once

#include "net/http_types.hpp"
#include "sio/engine_options.hpp"

namespace sio::net {

/// Adds Access-Control-* headers to an answer for `req` (nothing if CORS is off).
void apply_cors(const cors_options& cors, const request& req, response& res);

/// The answer to a preflight OPTIONS request (204).
response make_preflight_response(const cors_options& cors, const request& req);

} // namespace sio::net
