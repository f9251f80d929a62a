#include "sio/room_ref.hpp"
#include "socketio/handle_access.hpp"

#include <caf/all.hpp>

#include "sio/broadcast_operator.hpp"
#include "socketio/adapter.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/run_in_actor.hpp"

namespace sio {

using namespace sio::socketio;

void room_ref::emit_args(const std::string& event, json args) const {
  auto ns = ns_.lock();
  if (!ns)
    return;
  auto op = socketio::handle_access::make_operator(ns, nullptr).to(name_);
  (local_ ? op.local() : op).emit_args(event, std::move(args));
}

namespace {

/// Asks the namespace's adapter about `room`; `done` gets the answer, or
/// `fallback` when the adapter does not answer in time.
template <class T, class Atom>
void ask_adapter(const std::weak_ptr<namespace_state>& weak, const std::string& room,
                 std::function<void(T)> done, T fallback, caf::event_based_actor* self) {
  auto ns = weak.lock();
  if (!ns || !done)
    return;
  auto adapter = ns->adapter;
  auto timeout = ns->options->request_timeout;
  run_in_actor(ns->sys, self, [=](caf::event_based_actor* a) {
    a->request(adapter, timeout, Atom::value, room)
      .then([=](T& answer) { done(std::move(answer)); }, [=](caf::error&) { done(fallback); });
  });
}

} // namespace

void room_ref::size(std::function<void(std::size_t)> done, caf::event_based_actor* self) const {
  ask_adapter<std::size_t, room_size_atom>(ns_, name_, std::move(done), 0, self);
}

void room_ref::members(std::function<void(std::vector<std::string>)> done,
                       caf::event_based_actor* self) const {
  ask_adapter<std::vector<std::string>, room_members_atom>(ns_, name_, std::move(done), {}, self);
}

void room_ref::send(caf::message msg) const {
  if (auto ns = ns_.lock())
    caf::anon_send(ns->adapter, room_app_atom::value, name_, std::move(msg));
}

} // namespace sio
