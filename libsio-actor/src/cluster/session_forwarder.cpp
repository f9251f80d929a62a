#include "cluster/session_forwarder.hpp"

#include <caf/all.hpp>

#include "cluster/messages.hpp"
#include "cluster/node_tag.hpp"
#include "engineio/session_actor.hpp"

namespace sio::cluster {

namespace {

using forward_timeout_atom = caf::atom_constant<caf::atom("sio_fwdto")>;

std::string unknown_sid_body() {
  return engineio::error_body(1); // "Session ID unknown", as for a local miss
}

/// One forwarded request, from asking the route to answering the client.
caf::behavior forwarder(caf::event_based_actor* self, caf::actor cluster,
                        std::shared_ptr<forwarded_request> req) {
  auto answered = std::make_shared<bool>(false);
  auto answer = [=](unsigned status, std::string body) {
    if (*answered)
      return;
    *answered = true;
    if (status == 200)
      req->responder->send_payload(std::move(body));
    else
      req->responder->send_error(status, std::move(body));
    self->quit();
  };
  // Linked: when this node's server stops (its cluster actor exits), so do
  // the forwarders, or a parked GET would hold the actor system open.
  self->link_to(cluster);
  // The owner dying ends the wait at once (a parked GET would wait long).
  self->set_down_handler([=](caf::down_msg&) { answer(400, unknown_sid_body()); });
  self->delayed_send(self, req->timeout, forward_timeout_atom::value);
  auto fail = [=](caf::error&) { answer(400, unknown_sid_body()); };
  self->request(cluster, req->timeout, route_atom::value, std::string{tag_of_sid(req->sid)})
    .then(
      [=](caf::actor& owner) {
        self->monitor(owner);
        if (req->is_post) {
          self->request(owner, req->timeout, fwd_post_atom::value, req->sid, req->body)
            .then([=](bool found) {
              if (found)
                answer(200, "ok");
              else
                answer(400, unknown_sid_body());
            }, fail);
          return;
        }
        self->request(owner, req->timeout, fwd_poll_atom::value, req->sid,
                      caf::actor_cast<caf::actor>(self))
          .then([=](bool found) {
            if (!found)
              answer(400, unknown_sid_body());
            // else: the answer comes as poll_answer_atom
          }, fail);
      },
      fail);
  return {
    [=](poll_answer_atom, std::uint32_t status, std::string& body) {
      answer(status, std::move(body));
    },
    [=](forward_timeout_atom) {
      // The owner's session answers a GET within a ping interval; past the
      // timeout it is stuck or gone, and the client had better reconnect.
      answer(400, unknown_sid_body());
    },
  };
}

} // namespace

void forward_request(caf::actor_system& sys, caf::actor cluster, forwarded_request req) {
  sys.spawn(forwarder, std::move(cluster), std::make_shared<forwarded_request>(std::move(req)));
}

} // namespace sio::cluster
