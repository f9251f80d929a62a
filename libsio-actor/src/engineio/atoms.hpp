// Messages an Engine.IO session actor understands. Transports (net/) send the
// inbound ones; the application layer uses send_atom.
#pragma once

#include <memory>

#include <caf/atom.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include "engineio/transport.hpp"

namespace sio::engineio {

/// (poll_atom, shared_ptr<poll_responder>): a long-polling GET waits for data.
using poll_atom = caf::atom_constant<caf::atom("eio_poll")>;
/// (poll_aborted_atom, shared_ptr<poll_responder>): that GET's client went away.
using poll_aborted_atom = caf::atom_constant<caf::atom("eio_pabort")>;
/// (data_atom, vector<packet>): packets from a long-polling POST.
using data_atom = caf::atom_constant<caf::atom("eio_data")>;
/// (post_body_atom, body): a POST body to decode in the session (relayed by
/// another node, which does not know the session's protocol).
using post_body_atom = caf::atom_constant<caf::atom("eio_pbody")>;
/// (parse_error_atom): a POST body that does not decode.
using parse_error_atom = caf::atom_constant<caf::atom("eio_perr")>;
/// (ws_open_atom, shared_ptr<ws_channel>): a WebSocket for this session (upgrade).
using ws_open_atom = caf::atom_constant<caf::atom("eio_wsopen")>;
/// (ws_frame_atom, channel id, data, is_binary): one WebSocket message.
using ws_frame_atom = caf::atom_constant<caf::atom("eio_frame")>;
/// (ws_closed_atom, channel id, reason): the WebSocket is gone.
using ws_closed_atom = caf::atom_constant<caf::atom("eio_wsclos")>;
/// (send_atom, vector<packet_ptr>, is_volatile): packets for the client.
using send_atom = caf::atom_constant<caf::atom("eio_send")>;
/// (ws_flush_atom): write what was held back while more messages waited.
using ws_flush_atom = caf::atom_constant<caf::atom("eio_wsflsh")>;

// Timers (with a generation number so a stale timer is ignored).
using ping_atom = caf::atom_constant<caf::atom("eio_ping")>;
using ping_timeout_atom = caf::atom_constant<caf::atom("eio_pingto")>;
using upgrade_timeout_atom = caf::atom_constant<caf::atom("eio_upgto")>;
using upgrade_check_atom = caf::atom_constant<caf::atom("eio_upgchk")>;
using close_timeout_atom = caf::atom_constant<caf::atom("eio_closto")>;

} // namespace sio::engineio

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<sio::engineio::poll_responder>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<sio::engineio::ws_channel>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<sio::engineio::packet>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<sio::engineio::packet_ptr>)
