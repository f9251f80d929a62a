#include "sio/broadcast_operator.hpp"

#include <caf/all.hpp>

#include "cluster/messages.hpp"
#include "cluster/socket_info.hpp"
#include "engineio/atoms.hpp"
#include "socketio/atoms.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/run_in_actor.hpp"
#include "socketio/wire.hpp"

namespace sio {

using namespace sio::socketio;

namespace {

broadcast_target target_of(const broadcast_operator& op) {
  return broadcast_target{op.rooms(), op.excluded(), op.is_volatile()};
}

/// Gathers one answer per socket; calls `done` once, when all answered or
/// failed (each request is bounded by `timeout`).
template <class Result>
struct gather_state {
  std::size_t pending = 0;
  bool timed_out = false;
  std::vector<Result> results;
};

} // namespace

broadcast_operator::broadcast_operator(std::shared_ptr<socketio::namespace_state> ns,
                                       caf::event_based_actor* self, std::set<std::string> except)
  : ns_(std::move(ns)), self_(self), except_(std::move(except)),
    timeout_(ns_->options->request_timeout) {
}

broadcast_operator broadcast_operator::to(const std::string& room) const {
  auto copy = *this;
  copy.rooms_.insert(room);
  return copy;
}

broadcast_operator broadcast_operator::to(const std::vector<std::string>& rooms) const {
  auto copy = *this;
  copy.rooms_.insert(rooms.begin(), rooms.end());
  return copy;
}

broadcast_operator broadcast_operator::except(const std::string& room) const {
  auto copy = *this;
  copy.except_.insert(room);
  return copy;
}

broadcast_operator broadcast_operator::except(const std::vector<std::string>& rooms) const {
  auto copy = *this;
  copy.except_.insert(rooms.begin(), rooms.end());
  return copy;
}

broadcast_operator broadcast_operator::local() const {
  auto copy = *this;
  copy.local_ = true;
  return copy;
}

broadcast_operator broadcast_operator::volatile_() const {
  auto copy = *this;
  copy.volatile_flag_ = true;
  return copy;
}

broadcast_operator broadcast_operator::compress(bool on) const {
  auto copy = *this;
  copy.compress_ = on; // WebSocket compression is off in sio-actor: accepted, no effect
  return copy;
}

broadcast_operator broadcast_operator::timeout(std::chrono::milliseconds t) const {
  auto copy = *this;
  copy.timeout_ = t;
  return copy;
}

void broadcast_operator::emit_args(const std::string& event, json args) const {
  // Encoded once here; every recipient's session gets the same message.
  auto packets = make_event(ns_->name, event, args);
  if (spans_cluster()) {
    cluster::remote_broadcast rb;
    rb.nsp = ns_->name;
    rb.rooms.assign(rooms_.begin(), rooms_.end());
    rb.except.assign(except_.begin(), except_.end());
    rb.is_volatile = volatile_flag_;
    for (auto& p : packets)
      rb.packets.push_back({p->is_binary(), p->wire()});
    caf::anon_send(ns_->cluster, cluster::publish_broadcast_atom::value, std::move(rb));
  }
  auto msg = caf::make_message(engineio::send_atom::value, std::move(packets), volatile_flag_);
  caf::anon_send(ns_->adapter, broadcast_atom::value, target_of(*this), std::move(msg));
}

void broadcast_operator::emit_with_ack(const std::string& event, json args,
                                       broadcast_ack_callback done) const {
  if (!spans_cluster()) {
    emit_with_ack_here(self_, event, std::move(args), std::move(done));
    return;
  }
  cluster::ack_broadcast req;
  req.nsp = ns_->name;
  req.rooms.assign(rooms_.begin(), rooms_.end());
  req.except.assign(except_.begin(), except_.end());
  req.event = event;
  req.args = cluster::to_bytes(args);
  req.timeout_ms = timeout_.count();
  auto node = ns_->cluster;
  auto t = timeout_;
  auto local_part = local();
  run_in_actor(ns_->sys, self_, [=](caf::event_based_actor* self) {
    // This node's sockets and every other member's, merged into one result.
    auto merged = std::make_shared<broadcast_ack_result>();
    auto parts = std::make_shared<int>(2);
    auto part_done = [merged, parts, done](broadcast_ack_result part) {
      if (!part.ok())
        merged->error = part.error;
      for (auto& r : part.responses)
        merged->responses.push_back(std::move(r));
      if (--*parts == 0 && done)
        done(std::move(*merged));
    };
    local_part.emit_with_ack_here(self, event, args, part_done);
    self->request(node, t + std::chrono::seconds{1}, cluster::ack_broadcast_atom::value, req)
      .then(
        [=](std::vector<std::string>& answers, bool all_answered) {
          broadcast_ack_result part;
          if (!all_answered)
            part.error = "operation has timed out";
          for (auto& a : answers)
            part.responses.push_back(cluster::from_bytes(a));
          part_done(std::move(part));
        },
        [=](caf::error&) { part_done(broadcast_ack_result{"operation has timed out", {}}); });
  });
}

void broadcast_operator::emit_with_ack_here(caf::event_based_actor* in, const std::string& event,
                                            json args, broadcast_ack_callback done) const {
  auto id = ns_->next_ack_id++;
  auto packets = make_event(ns_->name, event, args, id);
  auto adapter = ns_->adapter;
  auto target = target_of(*this);
  auto t = timeout_;
  run_in_actor(ns_->sys, in, [=](caf::event_based_actor* self) {
    auto deadline = std::chrono::steady_clock::now() + t;
    self->request(adapter, t, select_atom::value, target)
      .then(
        [=](const std::vector<caf::actor>& sockets) {
          auto st = std::make_shared<gather_state<json>>();
          st->pending = sockets.size();
          auto finish_one = [st, done] {
            if (--st->pending == 0 && done)
              done(broadcast_ack_result{st->timed_out ? "operation has timed out" : "",
                                        std::move(st->results)});
          };
          if (sockets.empty()) {
            if (done)
              done(broadcast_ack_result{});
            return;
          }
          auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
          if (left.count() < 1)
            left = std::chrono::milliseconds{1};
          for (auto& s : sockets)
            self->request(s, left, ack_request_atom::value, id, packets, left)
              .then(
                [st, finish_one](json& answer) {
                  // Node hands the first ack argument of each client.
                  json first = answer.is_array() && !answer.empty() ? std::move(answer[0]) : json();
                  st->results.push_back(std::move(first));
                  finish_one();
                },
                [st, finish_one](caf::error& err) {
                  // A socket that left counts as "no answer", not as a timeout.
                  if (err != caf::sec::request_receiver_down)
                    st->timed_out = true;
                  finish_one();
                });
        },
        [=](caf::error&) {
          if (done)
            done(broadcast_ack_result{"operation has timed out", {}});
        });
  });
}

cluster::node_request broadcast_operator::node_request_for(std::string op) const {
  cluster::node_request req;
  req.nsp = ns_->name;
  req.rooms.assign(rooms_.begin(), rooms_.end());
  req.except.assign(except_.begin(), except_.end());
  req.op = std::move(op);
  return req;
}

bool broadcast_operator::spans_cluster() const noexcept {
  return ns_->cluster && !local_;
}

void broadcast_operator::fetch_sockets(
  std::function<void(std::vector<remote_socket>)> done) const {
  auto t = timeout_;
  auto cluster_actor = spans_cluster() ? ns_->cluster : caf::actor{};
  auto req = node_request_for("fetch");
  auto nsp = ns_->name;
  auto local_part = local();
  run_in_actor(ns_->sys, self_, [=](caf::event_based_actor* self) {
    // This node's sockets, plus every other member's when in a cluster.
    auto all = std::make_shared<std::vector<remote_socket>>();
    auto parts = std::make_shared<int>(cluster_actor ? 2 : 1);
    auto part_done = [all, parts, done](std::vector<remote_socket> part) {
      for (auto& s : part)
        all->push_back(std::move(s));
      if (--*parts == 0)
        done(std::move(*all));
    };
    local_part.fetch_local(self, part_done);
    if (!cluster_actor)
      return;
    // The cluster actor bounds each member by the cluster request timeout
    // and answers early when a member leaves; this bound is only a backstop.
    self->request(cluster_actor, t + std::chrono::seconds{1}, cluster::cluster_fetch_atom::value, req)
      .then(
        [=](std::vector<cluster::socket_info>& infos) {
          std::vector<remote_socket> part;
          for (auto& info : infos)
            part.push_back(cluster::from_socket_info(std::move(info), nsp));
          part_done(std::move(part));
        },
        [=](caf::error&) { part_done({}); });
  });
}

void broadcast_operator::fetch_local(caf::event_based_actor* self,
                                     std::function<void(std::vector<remote_socket>)> done) const {
  auto adapter = ns_->adapter;
  auto target = target_of(*this);
  auto t = timeout_;
  {
    self->request(adapter, t, select_atom::value, target)
      .then(
        [=](const std::vector<caf::actor>& sockets) {
          auto st = std::make_shared<gather_state<remote_socket>>();
          st->pending = sockets.size();
          if (sockets.empty()) {
            done({});
            return;
          }
          auto finish_one = [st, done] {
            if (--st->pending == 0)
              done(std::move(st->results));
          };
          for (auto& s : sockets)
            self->request(s, t, fetch_atom::value)
              .then(
                [st, finish_one](remote_socket& rs) {
                  st->results.push_back(std::move(rs));
                  finish_one();
                },
                [finish_one](caf::error&) { finish_one(); });
        },
        [=](caf::error&) { done({}); });
  }
}

void broadcast_operator::sockets_join(const std::string& room) const {
  sockets_join(std::vector<std::string>{room});
}

void broadcast_operator::sockets_join(const std::vector<std::string>& rooms) const {
  caf::anon_send(ns_->adapter, sockets_join_atom::value, target_of(*this), rooms);
  if (spans_cluster()) {
    auto req = node_request_for("join");
    req.room_args = rooms;
    caf::anon_send(ns_->cluster, cluster::bulk_atom::value, std::move(req));
  }
}

void broadcast_operator::sockets_leave(const std::string& room) const {
  caf::anon_send(ns_->adapter, sockets_leave_atom::value, target_of(*this),
                 std::vector<std::string>{room});
  if (spans_cluster()) {
    auto req = node_request_for("leave");
    req.room_args = {room};
    caf::anon_send(ns_->cluster, cluster::bulk_atom::value, std::move(req));
  }
}

void broadcast_operator::disconnect_sockets(bool close) const {
  caf::anon_send(ns_->adapter, disconnect_sockets_atom::value, target_of(*this), close);
  if (spans_cluster()) {
    auto req = node_request_for("disconnect");
    req.close = close;
    caf::anon_send(ns_->cluster, cluster::bulk_atom::value, std::move(req));
  }
}

} // namespace sio
