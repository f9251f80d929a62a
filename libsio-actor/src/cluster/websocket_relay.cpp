#include "cluster/websocket_relay.hpp"

#include <caf/all.hpp>

#include "cluster/messages.hpp"
#include "cluster/node_tag.hpp"
#include "engineio/atoms.hpp"
#include "util/debug_log.hpp"

namespace sio::cluster {

void remote_ws_channel::send(std::vector<engineio::packet_ptr> packets, bool is_volatile) {
  std::vector<wire_packet> wire;
  wire.reserve(packets.size());
  for (auto& p : packets)
    wire.push_back({p->is_binary(), p->wire()});
  caf::anon_send(relay_, ws_send_atom::value, std::move(wire), is_volatile);
}

void remote_ws_channel::close() {
  caf::anon_send(relay_, ws_close_atom::value);
}

namespace {

/// One relayed WebSocket, from finding the owner to the close of either side.
caf::behavior relay(caf::event_based_actor* self, caf::actor cluster, std::string sid,
                    std::shared_ptr<engineio::ws_channel> ws) {
  struct link_state {
    caf::actor session;
    std::uint64_t remote_id = 0;
  };
  auto st = std::make_shared<link_state>();
  auto finish = [=] {
    ws->close();
    self->quit();
  };
  self->link_to(cluster); // ends with this node's server
  self->set_down_handler([=](caf::down_msg&) { finish(); }); // the owner went away
  auto timeout = std::chrono::seconds{10};
  auto fail = [=](caf::error&) { finish(); };
  self->request(cluster, timeout, route_atom::value, std::string{tag_of_sid(sid)})
    .then(
      [=](caf::actor& owner) {
        self->request(owner, timeout, fwd_ws_atom::value, sid, caf::actor_cast<caf::actor>(self))
          .then(
            [=](caf::actor& session, std::uint64_t remote_id) {
              util::debug_log("relaying the WebSocket of session ", sid, " to its node");
              st->session = session;
              st->remote_id = remote_id;
              self->monitor(session);
              ws->attach(caf::actor_cast<caf::actor>(self)); // frames flow from now on
            },
            fail);
      },
      fail);
  return {
    [=](engineio::ws_frame_atom, std::uint64_t, std::string& data, bool binary) {
      if (st->session)
        self->send(st->session, engineio::ws_frame_atom::value, st->remote_id, std::move(data),
                   binary);
    },
    [=](engineio::ws_closed_atom, std::uint64_t, std::string& reason) {
      if (st->session)
        self->send(st->session, engineio::ws_closed_atom::value, st->remote_id, std::move(reason));
      self->quit();
    },
    [=](ws_send_atom, std::vector<wire_packet>& wire, bool is_volatile) {
      std::vector<engineio::packet_ptr> packets;
      packets.reserve(wire.size());
      for (auto& w : wire)
        packets.push_back(std::make_shared<const engineio::packet>(
          engineio::packet::from_wire(std::move(w.wire), w.binary)));
      ws->send(std::move(packets), is_volatile);
    },
    [=](ws_close_atom) { finish(); },
  };
}

} // namespace

void relay_websocket(caf::actor_system& sys, caf::actor cluster, std::string sid,
                     std::shared_ptr<engineio::ws_channel> ws) {
  sys.spawn(relay, std::move(cluster), std::move(sid), std::move(ws));
}

} // namespace sio::cluster
