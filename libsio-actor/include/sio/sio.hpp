// sio-actor: a Socket.IO v5 / Engine.IO v4 server built from CAF actors.
// Include this one header.
#pragma once

#include "sio/app.hpp"
#include "sio/balance.hpp"
#include "sio/cli.hpp"
#include "sio/cluster_options.hpp"
#include "sio/engine.hpp"
#include "sio/engine_options.hpp"
#include "sio/handshake.hpp"
#include "sio/http_server.hpp"
#include "sio/json.hpp"
#include "sio/listen_options.hpp"
#include "sio/messages.hpp"
#include "sio/room.hpp"
#include "sio/room_message.hpp"
#include "sio/room_ref.hpp"
#include "sio/server.hpp"
#include "sio/signals.hpp"
#include "sio/socket.hpp"
#include "sio/workers.hpp"
