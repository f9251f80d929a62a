// Helpers for the cluster tests: several actor systems in one process, each
// configured with sio::configure_cluster and talking over loopback only
// (every listener on 127.0.0.1, port 0). Every wait is bounded; every
// shutdown is guarded by a watchdog that aborts the binary instead of hanging.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>

#include <catch2/catch.hpp>

#include "actor_test_support.hpp"
#include "socketio/handle_access.hpp"
#include "cluster/cluster_actor.hpp"
#include "cluster/messages.hpp"
#include "cluster/node_tag.hpp"
#include "cluster/session_forwarder.hpp"
#include "cluster/socket_info.hpp"
#include "engineio/atoms.hpp"
#include "engineio/packet.hpp"
#include "sio/cluster_options.hpp"
#include "sio/server.hpp"
#include "socketio/adapter.hpp"
#include "socketio/atoms.hpp"
#include "socketio/namespace_state.hpp"
#include "socketio/packet.hpp"
#include "socketio/socket_actor.hpp"

namespace sio_cluster_test {

using namespace std::chrono_literals;
using sio::json;
namespace cl = sio::cluster;

/// Upper bound of every wait; only reached when a test fails.
constexpr auto limit = std::chrono::milliseconds(3000);

// -- bounded waiting -----------------------------------------------------------

/// Polls `pred` until it holds or `within` passed; true if it held.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = limit) {
  auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(10ms);
  }
}

/// Milliseconds since `start`.
inline long long ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                               - start)
    .count();
}

/// Aborts the process when not destroyed within `within`: a hanging
/// ~actor_system must fail the test run, not stall CI.
class watchdog {
public:
  watchdog(std::string what, std::chrono::milliseconds within)
    : what_(std::move(what)), thread_([this, within] {
        std::unique_lock<std::mutex> guard{mutex_};
        if (!cv_.wait_for(guard, within, [this] { return done_; })) {
          std::cerr << "cluster_test watchdog: " << what_ << " took more than " << within.count()
                    << " ms; aborting" << std::endl;
          std::abort();
        }
      }) {
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog() {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::string what_;
  std::thread thread_;
};

/// A thread-safe list that actors append to and the test thread reads.
template <class T>
class logbook {
public:
  void add(T x) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      items_.push_back(std::move(x));
    }
    cv_.notify_all();
  }
  std::vector<T> snapshot() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return items_;
  }
  std::size_t size() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return items_.size();
  }
  /// Waits (bounded) until `pred(items)` holds. `pred` runs under the lock.
  bool wait(std::function<bool(const std::vector<T>&)> pred,
            std::chrono::milliseconds within = limit) const {
    std::unique_lock<std::mutex> guard{mutex_};
    return cv_.wait_for(guard, within, [&] { return pred(items_); });
  }
  /// Waits (bounded) for item number `n` (from 0).
  std::optional<T> wait_nth(std::size_t n, std::chrono::milliseconds within = limit) const {
    std::unique_lock<std::mutex> guard{mutex_};
    if (!cv_.wait_for(guard, within, [&] { return items_.size() > n; }))
      return std::nullopt;
    return items_[n];
  }
  void clear() {
    std::lock_guard<std::mutex> guard{mutex_};
    items_.clear();
  }

private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::vector<T> items_;
};

// -- actor systems ---------------------------------------------------------------

/// A node's config: with the cluster registration (as every node must), or
/// only the middleman (to show what a missing registration looks like).
/// Two scheduler threads per system: the machine is small and shared.
struct node_config : caf::actor_system_config {
  explicit node_config(bool cluster = true) {
    if (cluster) {
      sio::configure_cluster(*this);
      use_test_credentials();
    } else {
      load<caf::io::middleman>();
    }
    set("scheduler.max-threads", 2);
  }

  /// Cluster links are mutual TLS: every node of this test process presents
  /// the same run certificate (sio::use_run_credentials) and trusts only it.
  void use_test_credentials() {
    static const auto shared = [] {
      caf::actor_system_config cfg;
      sio::use_run_credentials(cfg);
      return std::array<std::string, 3>{cfg.openssl_certificate, cfg.openssl_key,
                                        cfg.openssl_cafile};
    }();
    openssl_certificate = shared[0];
    openssl_key = shared[1];
    openssl_cafile = shared[2];
  }
};

/// The middleman actor that makes connections: the TLS one where the system
/// has CAF's openssl module (the cluster's nodes), else the plain one.
inline caf::io::middleman_actor connector(caf::actor_system& sys) {
  return sys.has_openssl_manager() ? sys.openssl_manager().actor_handle()
                                   : sys.middleman().actor_handle();
}

/// Connects to an actor published on 127.0.0.1:`port`, bounded (the blocking
/// remote_actor() has no timeout of its own).
inline caf::actor connect_remote(caf::actor_system& sys, std::uint16_t port) {
  caf::actor result;
  caf::scoped_actor self{sys};
  self->request(connector(sys), limit, caf::connect_atom::value,
                std::string{"127.0.0.1"}, port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        result = caf::actor_cast<caf::actor>(ptr);
      },
      [&](caf::error& err) { UNSCOPED_INFO("connect failed: " << sys.render(err)); });
  return result;
}

/// Publishes `a` on 127.0.0.1, port chosen by the OS; 0 on failure.
inline std::uint16_t publish_loopback(caf::actor_system& sys, const caf::actor& a) {
  auto port = sys.has_openssl_manager() ? caf::openssl::publish(a, 0, "127.0.0.1", true)
                                        : sys.middleman().publish(a, 0, "127.0.0.1", true);
  if (!port) {
    UNSCOPED_INFO("publish failed: " << sys.render(port.error()));
    return 0;
  }
  return *port;
}

// -- typed round trips -------------------------------------------------------------

/// The message as a typed tuple, if it is exactly (Ts...) (atoms compared by value).
template <class... Ts>
std::optional<std::tuple<Ts...>> as_tuple(caf::message msg) {
  std::optional<std::tuple<Ts...>> out;
  caf::behavior bhvr{[&](const Ts&... xs) { out.emplace(xs...); }};
  bhvr(msg);
  return out;
}

/// Records every message it gets and answers with the same message.
inline caf::behavior mirror(caf::event_based_actor* self,
                            std::shared_ptr<logbook<caf::message>> log) {
  self->set_default_handler(
    [log](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      auto msg = x.copy_content_to_message();
      log->add(msg);
      return msg;
    });
  // A behavior must not be empty (that would end the actor): one handler
  // nobody sends, everything else goes through the default handler.
  using never_atom = caf::atom_constant<caf::atom("t_never")>;
  return {[](never_atom) {}};
}

/// What one message looked like on each side of the connection.
template <class... Ts>
struct crossing {
  std::optional<std::tuple<Ts...>> at_a;      // as system A decoded it
  std::optional<std::tuple<Ts...>> back_at_b; // echoed back, as system B decoded it
  std::string raw_at_a;                       // caf::to_string of A's message
  std::string error;                          // B's request failed
};

/// System A publishes a mirror on loopback; system B holds a proxy to it.
struct mirror_pair {
  std::unique_ptr<node_config> cfg_a;
  std::unique_ptr<node_config> cfg_b;
  std::unique_ptr<caf::actor_system> a;
  std::unique_ptr<caf::actor_system> b;
  std::shared_ptr<logbook<caf::message>> log = std::make_shared<logbook<caf::message>>();
  caf::actor mirror_at_a;
  std::uint16_t port = 0;
  caf::actor remote; // the mirror, seen from B
  std::vector<caf::actor> owned_b;

  explicit mirror_pair(bool registered = true)
    : cfg_a(std::make_unique<node_config>(registered)),
      cfg_b(std::make_unique<node_config>(registered)),
      a(std::make_unique<caf::actor_system>(*cfg_a)),
      b(std::make_unique<caf::actor_system>(*cfg_b)) {
    mirror_at_a = a->spawn(mirror, log);
    port = publish_loopback(*a, mirror_at_a);
    if (port != 0)
      remote = connect_remote(*b, port);
  }
  mirror_pair(const mirror_pair&) = delete;
  mirror_pair& operator=(const mirror_pair&) = delete;

  ~mirror_pair() {
    watchdog guard{"mirror_pair shutdown", 10s};
    // Messages in the log may hold proxies of B's actors: drop them first.
    log->clear();
    remote = nullptr;
    for (auto& x : owned_b)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    owned_b.clear();
    if (port != 0)
      a->middleman().unpublish(mirror_at_a, port);
    caf::anon_send_exit(mirror_at_a, caf::exit_reason::user_shutdown);
    mirror_at_a = nullptr;
    b.reset();
    a.reset();
  }

  /// An actor of system B (to put into messages); stopped with the pair.
  caf::actor actor_at_b() {
    auto x = b->spawn([](caf::event_based_actor*, int) -> caf::behavior {
      using never_atom = caf::atom_constant<caf::atom("t_never")>;
      return {[](never_atom) {}};
    }, 0);
    owned_b.push_back(x);
    return x;
  }

  /// Sends (xs...) from B to A's mirror as a request; A echoes it back.
  template <class... Ts>
  crossing<Ts...> across(const Ts&... xs) {
    crossing<Ts...> out;
    auto before = log->size();
    {
      caf::scoped_actor self{*b};
      self->request(remote, limit, xs...)
        .receive([&](const Ts&... ys) { out.back_at_b.emplace(ys...); },
                 [&](caf::error& err) { out.error = b->render(err); });
    }
    if (auto msg = log->wait_nth(before, out.error.empty() ? limit : 200ms)) {
      out.raw_at_a = caf::to_string(*msg);
      out.at_a = as_tuple<Ts...>(*msg);
    }
    return out;
  }
};

// -- sample values (binary-heavy on purpose) ------------------------------------

/// Every byte value, NUL included, twice.
inline std::string all_bytes() {
  std::string s;
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 256; ++i)
      s.push_back(static_cast<char>(i));
  return s;
}

/// JSON with every kind of value MessagePack must keep, binary included.
inline json rich_json() {
  json j = json::object();
  j["text"] = "h\xC3\xA9llo \xE2\x9C\x93";
  j["bin"] = json::binary(std::vector<std::uint8_t>{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff});
  j["neg"] = -42;
  j["big"] = std::uint64_t{1} << 63;
  j["float"] = 1.5;
  j["null"] = nullptr;
  j["list"] = json::array({true, false, "x", json::array()});
  j["nested"] = json{{"z", 1}, {"a", json::binary(std::vector<std::uint8_t>{0, 0, 0})}};
  return j;
}

// -- field-by-field comparisons ------------------------------------------------------

inline void check_same(const cl::member_info& got, const cl::member_info& want) {
  CHECK(got.address == want.address);
  CHECK(got.node == want.node);
}

inline void check_same(const cl::wire_packet& got, const cl::wire_packet& want) {
  CHECK(got.binary == want.binary);
  CHECK(got.wire.size() == want.wire.size());
  CHECK(got.wire == want.wire);
}

inline void check_same(const cl::selection& got, const cl::selection& want) {
  CHECK(got.nsp == want.nsp);
  CHECK(got.rooms == want.rooms);
  CHECK(got.except == want.except);
}

inline void check_same(const cl::remote_broadcast& got, const cl::remote_broadcast& want) {
  check_same(got.sel, want.sel);
  CHECK(got.is_volatile == want.is_volatile);
  REQUIRE(got.packets.size() == want.packets.size());
  for (std::size_t i = 0; i < got.packets.size(); ++i)
    check_same(got.packets[i], want.packets[i]);
}

inline void check_same(const cl::socket_info& got, const cl::socket_info& want) {
  CHECK(got.id == want.id);
  CHECK(got.headers == want.headers);
  CHECK(got.query == want.query);
  CHECK(got.address == want.address);
  CHECK(got.url == want.url);
  CHECK(got.issued == want.issued);
  CHECK(got.auth == want.auth);
  CHECK(got.rooms == want.rooms);
  CHECK(got.data == want.data);
  CHECK(got.socket == want.socket);
}


inline void check_same(const cl::server_event& got, const cl::server_event& want) {
  CHECK(got.nsp == want.nsp);
  CHECK(got.event == want.event);
  CHECK(got.args == want.args);
  CHECK(got.timeout_ms == want.timeout_ms);
}

inline void check_same(const cl::ack_broadcast& got, const cl::ack_broadcast& want) {
  check_same(got.sel, want.sel);
  CHECK(got.event == want.event);
  CHECK(got.args == want.args);
  CHECK(got.timeout_ms == want.timeout_ms);
}

template <class T>
void check_same(const std::vector<T>& got, const std::vector<T>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    check_same(got[i], want[i]);
}

inline void check_same(const std::string& got, const std::string& want) {
  CHECK(got.size() == want.size());
  CHECK(got == want);
}

// -- a cluster actor with recording callbacks ----------------------------------------

/// A call that reached a fake socket actor (what socket_ref sends).
struct socket_call {
  std::string kind; // "emit", "join", "leave", "disconnect"
  std::string event;
  std::string raw_args; // emit: the bytes as they arrived
  json args;            // emit: decoded as the socket actor does
  std::vector<std::string> rooms;
  bool close = false;
};

/// Stands in for a socket actor: accepts exactly what socket_ref sends.
inline caf::behavior fake_socket(caf::event_based_actor* self,
                                 std::shared_ptr<logbook<socket_call>> log) {
  using namespace sio::socketio;
  self->set_default_handler(caf::drop);
  return {
    [=](emit_atom, const std::string& event, const std::string& args) {
      log->add(socket_call{"emit", event, args, cl::from_bytes(args), {}, false});
    },
    [=](join_atom, const std::vector<std::string>& rooms) {
      log->add(socket_call{"join", {}, {}, {}, rooms, false});
    },
    [=](leave_atom, const std::string& room) {
      log->add(socket_call{"leave", {}, {}, {}, {room}, false});
    },
    [=](disconnect_atom, bool close) {
      log->add(socket_call{"disconnect", {}, {}, {}, {}, close});
    },
  };
}

/// A bulk operation as it reached a node's adapter.
struct bulk_call {
  cl::selection sel;
  std::string op; // "join", "leave", "disconnect"
  std::vector<std::string> rooms;
  bool close = false;
};

inline void check_same(const bulk_call& got, const bulk_call& want) {
  check_same(got.sel, want.sel);
  CHECK(got.op == want.op);
  CHECK(got.rooms == want.rooms);
  CHECK(got.close == want.close);
}

/// What a node's adapters got from its cluster actor (in the shapes the
/// other node sent), and how they answer.
struct cluster_recorder {
  logbook<cl::remote_broadcast> delivered;
  logbook<sio::socketio::event_emit> encoded_events; // recovery: encoded by this node
  logbook<cl::selection> fetches;
  logbook<bulk_call> bulks;
  logbook<std::pair<cl::server_event, bool>> events; // with ack?
  logbook<cl::ack_broadcast> ack_broadcasts;
  /// Anything the cluster actor must never hand an adapter: a request
  /// without `local` set, or a message only local actors send.
  logbook<std::string> misrouted;

  std::mutex mutex;
  std::vector<cl::socket_info> fetch_answer;
  std::optional<std::string> event_answer; // none: the handler never acks
  bool has_handler = true;
  std::vector<std::string> ack_answers;
  bool ack_all = true;
  /// Sessions find_session knows (sid -> session actor).
  std::map<std::string, caf::actor> sessions;
  /// The fake adapter of each namespace asked for so far; none once stopping.
  std::map<std::string, sio::socketio::adapter_actor> adapters;
  bool stopping = false;
};

inline cl::selection selection_of(const std::string& nsp,
                                  const sio::socketio::broadcast_target& t) {
  return cl::selection{nsp, {t.rooms.begin(), t.rooms.end()}, {t.except.begin(), t.except.end()}};
}

/// Stands in for namespace `nsp`'s adapter on a cluster_node: records what
/// the cluster actor hands it and answers as the recorder says.
inline sio::socketio::adapter_actor::behavior_type
fake_adapter(sio::socketio::adapter_actor::pointer self, std::string nsp,
             std::shared_ptr<cluster_recorder> rec) {
  namespace eio = sio::engineio;
  using namespace sio::socketio;
  auto check_local = [rec](const char* what, bool local) {
    if (!local)
      rec->misrouted.add(std::string{what} + " without local");
  };
  return {
    [=](add_atom, const std::string&, const caf::actor&, const caf::actor&) {
      rec->misrouted.add("add");
    },
    [=](remove_atom, const std::string&) { rec->misrouted.add("remove"); },
    [=](join_atom, const std::string&, const std::vector<std::string>&) {
      rec->misrouted.add("join");
    },
    [=](leave_atom, const std::string&, const std::string&) { rec->misrouted.add("leave"); },
    [=](broadcast_atom, const broadcast_target& t, const caf::message& msg) {
      check_local("broadcast", t.local);
      cl::remote_broadcast rb;
      rb.sel = selection_of(nsp, t);
      rb.is_volatile = t.is_volatile;
      if (!msg.match_elements<eio::send_atom, std::vector<eio::packet_ptr>, bool>()) {
        rec->misrouted.add("broadcast of another shape");
        return;
      }
      if (msg.get_as<bool>(2) != t.is_volatile)
        rec->misrouted.add("broadcast whose volatile flags differ");
      for (auto& p : msg.get_as<std::vector<eio::packet_ptr>>(1))
        rb.packets.push_back({p->is_binary(), p->wire()});
      rec->delivered.add(std::move(rb));
    },
    [=](broadcast_ack_atom, const broadcast_target& t,
        const ack_emit& e) -> caf::result<std::vector<json>, bool> {
      check_local("broadcast with ack", t.local);
      rec->ack_broadcasts.add(
        cl::ack_broadcast{selection_of(nsp, t), e.event, cl::to_bytes(e.args), e.timeout.count()});
      std::vector<json> answers;
      bool all = true;
      {
        std::lock_guard<std::mutex> guard{rec->mutex};
        for (auto& a : rec->ack_answers)
          answers.push_back(cl::from_bytes(a));
        all = rec->ack_all;
      }
      // Not `return {answers, all}`: caf::result builds a vector<json>{answers},
      // a vector of one JSON array.
      auto rp = self->make_response_promise<std::vector<json>, bool>();
      rp.deliver(std::move(answers), all);
      return rp;
    },
    [=](fetch_sockets_atom, const broadcast_target& t,
        caf::timespan) -> caf::result<std::vector<sio::remote_socket>> {
      check_local("fetch", t.local);
      rec->fetches.add(selection_of(nsp, t));
      std::vector<sio::remote_socket> answer;
      {
        std::lock_guard<std::mutex> guard{rec->mutex};
        for (auto& info : rec->fetch_answer)
          answer.push_back(cl::from_socket_info(info, nsp));
      }
      return answer;
    },
    [=](sockets_join_atom, const broadcast_target& t, const std::vector<std::string>& rooms) {
      check_local("sockets_join", t.local);
      rec->bulks.add(bulk_call{selection_of(nsp, t), "join", rooms, false});
    },
    [=](sockets_leave_atom, const broadcast_target& t, const std::vector<std::string>& rooms) {
      check_local("sockets_leave", t.local);
      rec->bulks.add(bulk_call{selection_of(nsp, t), "leave", rooms, false});
    },
    [=](disconnect_sockets_atom, const broadcast_target& t, bool close) {
      check_local("disconnect_sockets", t.local);
      rec->bulks.add(bulk_call{selection_of(nsp, t), "disconnect", {}, close});
    },
    [=](rooms_atom) {
      rec->misrouted.add("rooms");
      return std::map<std::string, std::size_t>{};
    },
    [=](server_emit_atom, const server_side_event& ev) {
      check_local("server_emit", ev.local);
      rec->events.add(
        {cl::server_event{nsp, ev.event, cl::to_bytes(ev.args), ev.timeout.count()}, false});
    },
    [=](server_emit_ack_atom, const server_side_event& ev) -> caf::result<std::vector<json>, bool> {
      check_local("server_emit_ack", ev.local);
      rec->events.add(
        {cl::server_event{nsp, ev.event, cl::to_bytes(ev.args), ev.timeout.count()}, true});
      auto rp = self->make_response_promise<std::vector<json>, bool>();
      std::optional<std::string> answer;
      bool has_handler = true;
      {
        std::lock_guard<std::mutex> guard{rec->mutex};
        answer = rec->event_answer;
        has_handler = rec->has_handler;
      }
      // No handler, or one that never acks: the promise is dropped unanswered.
      if (has_handler && answer)
        rp.deliver(std::vector<json>{cl::from_bytes(*answer)}, true);
      return rp;
    },
    [=](server_count_atom) {
      rec->misrouted.add("server_count");
      return std::size_t{0};
    },
    // room_ref's requests are this node's own: the cluster actor never sends them.
    [=](room_size_atom, const std::string&) {
      rec->misrouted.add("room_size");
      return std::size_t{0};
    },
    [=](room_members_atom, const std::string&) {
      rec->misrouted.add("room_members");
      return std::vector<std::string>{};
    },
    [=](room_app_atom, const std::string&, const caf::message&) {
      rec->misrouted.add("room_app");
    },
    // Recovery's messages come from this node's sockets, never from the cluster actor
    // (an event to encode here is recorded as received: tests check it by name).
    [=](emit_event_atom, const broadcast_target& t, const event_emit& e) {
      check_local("emit_event", t.local);
      rec->encoded_events.add(e);
    },
    [=](persist_atom, const persisted_session&) { rec->misrouted.add("persist"); },
    [=](restore_atom, const std::string&, const std::string&) {
      rec->misrouted.add("restore");
      return std::optional<persisted_session>{};
    },
    [=](hand_over_atom, const std::string&, const std::string&) {
      rec->misrouted.add("hand_over");
      return std::optional<persisted_session>{};
    },
    [=](add_recovered_atom, const caf::actor&, const caf::actor&, const persisted_session&,
        const std::string&) {
      rec->misrouted.add("add_recovered");
    },
    [=](relay_atom, const caf::actor&, const caf::message&) { rec->misrouted.add("relay"); },
    [=](checkpoint_atom, const persisted_session&) { rec->misrouted.add("checkpoint"); },
    [=](forget_atom, const std::string&, std::uint64_t) { rec->misrouted.add("forget"); },
    [=](replica_atom, const persisted_session&, const std::string&, replica_kind) {
      rec->misrouted.add("replica");
    },
    [=](owner_gone_atom, const std::string&) {}, // every member that leaves tells every adapter
    [=](sync_replicas_atom, const std::string&) {}, // every member that joins, too
    [=](flush_atom) { return true; },
    [=](take_replica_atom, const std::string&, const std::string&) {
      rec->misrouted.add("take_replica");
      return std::optional<persisted_session>{};
    },
  };
}

/// A call that reached a fake Engine.IO session (what a forwarder relays).
struct session_call {
  std::string kind; // "data", "parse_error", "poll"
  std::vector<std::pair<bool, std::string>> packets; // data: (is_binary, wire)
  bool relayed = false;                              // poll: the responder says so
};

/// How a fake session answers a forwarded GET: (status, body), or never.
struct poll_reply {
  std::optional<std::pair<unsigned, std::string>> answer;
};

/// Stands in for an Engine.IO session actor: records what the cluster actor
/// hands it for a forwarded request, and answers GETs with `reply`.
inline caf::behavior fake_session(caf::event_based_actor* self,
                                  std::shared_ptr<logbook<session_call>> log,
                                  std::shared_ptr<poll_reply> reply) {
  namespace eio = sio::engineio;
  auto held = std::make_shared<std::vector<std::shared_ptr<eio::poll_responder>>>();
  self->set_default_handler(caf::drop);
  self->attach_functor([held] { held->clear(); });
  return {
    [=](eio::post_body_atom, const std::string& body) {
      // A real (v4) session decodes a relayed POST body so.
      std::vector<eio::packet> packets;
      if (!eio::decode_payload(body, packets)) {
        log->add(session_call{"parse_error", {}, false});
        return;
      }
      session_call call{"data", {}, false};
      for (auto& p : packets)
        call.packets.emplace_back(p.is_binary(), p.wire());
      log->add(std::move(call));
    },
    [=](eio::poll_atom, const std::shared_ptr<eio::poll_responder>& r) {
      log->add(session_call{"poll", {}, r && r->relayed()});
      if (!r)
        return;
      if (!reply->answer) {
        held->push_back(r); // never answered: the GET is parked
        return;
      }
      if (reply->answer->first == 200)
        r->send_payload(reply->answer->second);
      else
        r->send_error(reply->answer->first, reply->answer->second);
    },
  };
}

/// The HTTP side of a forwarded request: hands over (status, body) once.
class test_responder final : public sio::engineio::poll_responder {
public:
  explicit test_responder(std::function<void(std::pair<unsigned, std::string>)> done)
    : done_(std::move(done)) {}
  void send_payload(std::string payload) override { done_({200u, std::move(payload)}); }
  void send_binary_payload(std::string payload) override { done_({200u, std::move(payload)}); }
  void send_error(unsigned status, std::string body) override {
    done_({status, std::move(body)});
  }

private:
  std::function<void(std::pair<unsigned, std::string>)> done_;
};

/// One node with a real cluster actor (no sio::server): its callbacks record.
struct cluster_node {
  std::string name;
  std::unique_ptr<node_config> cfg = std::make_unique<node_config>();
  std::unique_ptr<caf::actor_system> sys = std::make_unique<caf::actor_system>(*cfg);
  std::shared_ptr<cluster_recorder> rec = std::make_shared<cluster_recorder>();
  std::shared_ptr<logbook<socket_call>> socket_log = std::make_shared<logbook<socket_call>>();
  std::shared_ptr<logbook<session_call>> session_calls = std::make_shared<logbook<session_call>>();
  std::shared_ptr<poll_reply> poll_answer = std::make_shared<poll_reply>();
  caf::actor cluster;
  std::uint16_t port = 0;
  std::string address;
  std::vector<caf::actor> owned;

  cluster_node(std::string node_name, std::vector<std::string> join,
               std::chrono::milliseconds request_timeout = 2000ms)
    : name(std::move(node_name)) {
    cl::cluster_config cc;
    cc.options.enabled = true;
    cc.options.join = std::move(join);
    cc.options.request_timeout = request_timeout;
    cc.options.max_retry_delay = 500ms;
    auto rec_ptr = rec;
    auto* node_sys = sys.get();
    cc.find_adapter = [rec_ptr, node_sys](const std::string& nsp) {
      std::lock_guard<std::mutex> guard{rec_ptr->mutex};
      if (rec_ptr->stopping)
        return sio::socketio::adapter_actor{};
      auto& x = rec_ptr->adapters[nsp];
      if (!x)
        x = node_sys->spawn(fake_adapter, nsp, rec_ptr);
      return x;
    };
    cc.find_session = [rec_ptr](const std::string& sid) -> std::optional<caf::actor> {
      std::lock_guard<std::mutex> guard{rec_ptr->mutex};
      auto i = rec_ptr->sessions.find(sid);
      if (i == rec_ptr->sessions.end())
        return std::nullopt;
      return i->second;
    };
    cluster = cl::spawn_cluster_actor(*sys, std::move(cc));
    port = publish_loopback(*sys, cluster);
    address = "127.0.0.1:" + std::to_string(port);
    caf::anon_send(cluster, cl::start_atom::value, address);
  }
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;
  ~cluster_node() { stop(); }

  /// Shuts this node down (as a process exit would), bounded by a watchdog.
  void stop() {
    if (!sys)
      return;
    watchdog guard{"cluster node " + name + " shutdown", 10s};
    {
      std::lock_guard<std::mutex> lock{rec->mutex};
      rec->fetch_answer.clear(); // holds actor handles
      rec->sessions.clear();
      for (auto& kv : rec->adapters)
        caf::anon_send_exit(kv.second, caf::exit_reason::user_shutdown);
      rec->adapters.clear();
      rec->stopping = true;
    }
    for (auto& x : owned)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    owned.clear();
    if (port != 0)
      sys->middleman().unpublish(cluster, port);
    caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
    cluster = nullptr;
    sys.reset();
  }

  /// The other members' addresses, as this node's cluster actor lists them.
  std::set<std::string> members() {
    std::set<std::string> out;
    caf::scoped_actor self{*sys};
    self->request(cluster, limit, cl::members_atom::value)
      .receive([&](const std::vector<std::string>& xs) { out.insert(xs.begin(), xs.end()); },
               [&](caf::error& err) { out.insert("<error: " + sys->render(err) + ">"); });
    return out;
  }

  /// Waits (bounded) until this node lists exactly `want` as its other members.
  bool wait_members(const std::set<std::string>& want) {
    return eventually([&] { return members() == want; });
  }

  /// A fake session `sid` (this node's sid prefix is added), known to find_session.
  std::string add_fake_session(const std::string& suffix) {
    auto sid = cl::sid_prefix(address) + suffix;
    auto x = sys->spawn(fake_session, session_calls, poll_answer);
    owned.push_back(x);
    std::lock_guard<std::mutex> guard{rec->mutex};
    rec->sessions[sid] = x;
    return sid;
  }

  caf::actor spawn_fake_socket() {
    auto x = sys->spawn(fake_socket, socket_log);
    owned.push_back(x);
    return x;
  }
};

// -- sio::server nodes -------------------------------------------------------------------

/// What a session probe saw: decoded Socket.IO packets and the socket's
/// connected / gone notices.
struct session_record {
  std::string who;
  std::string kind; // "packet", "connected", "gone", "decode error"
  sio::socketio::packet packet;
  bool close = false;
  std::string detail;
};

using session_log = logbook<session_record>;

/// A session actor stand-in that decodes what its socket writes, binary
/// attachments included (one decoder per session, as a real client).
inline caf::behavior session_probe(caf::event_based_actor* self, std::string who,
                                   std::shared_ptr<session_log> log) {
  namespace eio = sio::engineio;
  using namespace sio::socketio;
  auto dec = std::make_shared<decoder>();
  auto feed = [who, log, dec](const std::vector<eio::packet_ptr>& packets) {
    for (auto& p : packets) {
      decoder::status st;
      if (p->is_binary())
        st = dec->feed_binary(p->data());
      else if (p->type() == eio::packet_type::message)
        st = dec->feed_text(p->data());
      else
        continue;
      if (st == decoder::status::complete)
        log->add(session_record{who, "packet", dec->take(), false, {}});
      else if (st == decoder::status::error)
        log->add(session_record{who, "decode error", {}, false, dec->error()});
    }
  };
  self->set_default_handler(caf::drop);
  return {
    [=](eio::send_atom, const std::vector<eio::packet_ptr>& packets, bool) { feed(packets); },
    [=](socket_connected_atom, const std::string&, const std::vector<eio::packet_ptr>& packets) {
      feed(packets);
      log->add(session_record{who, "connected", {}, false, {}});
    },
    [=](socket_gone_atom, const std::string&, bool close,
        const std::vector<eio::packet_ptr>& packets) {
      feed(packets);
      log->add(session_record{who, "gone", {}, close, {}});
    },
  };
}

/// The first packet to `who` matching `pred` (for logbook::wait predicates).
inline std::optional<sio::socketio::packet>
find_session_packet(const std::vector<session_record>& recs, const std::string& who,
                    const std::function<bool(const sio::socketio::packet&)>& pred) {
  for (auto& r : recs)
    if (r.who == who && r.kind == "packet" && pred(r.packet))
      return r.packet;
  return std::nullopt;
}

/// An EVENT (or BINARY_EVENT) whose first argument is `event`.
inline std::function<bool(const sio::socketio::packet&)> is_event(const std::string& event) {
  return [event](const sio::socketio::packet& p) {
    using sio::socketio::packet_type;
    return (p.type == packet_type::event || p.type == packet_type::binary_event) && p.data
           && p.data->is_array() && !p.data->empty() && (*p.data)[0] == event;
  };
}

/// One sio::server with the cluster on (127.0.0.1, port 0) in its own actor
/// system; its sockets are real socket actors on session probes.
struct server_node {
  std::string name;
  std::unique_ptr<node_config> cfg = std::make_unique<node_config>();
  std::unique_ptr<caf::actor_system> sys = std::make_unique<caf::actor_system>(*cfg);
  std::unique_ptr<sio::server> io;
  std::shared_ptr<session_log> log;
  std::map<std::string, caf::actor> sockets;
  std::vector<caf::actor> owned;

  server_node(std::string node_name, std::vector<std::string> join,
              std::shared_ptr<session_log> shared_log,
              std::chrono::milliseconds request_timeout = 5000ms)
    : name(std::move(node_name)), log(std::move(shared_log)) {
    sio::server_options opts;
    opts.request_timeout = request_timeout;
    opts.cluster.enabled = true;
    opts.cluster.listen_host = "127.0.0.1";
    opts.cluster.listen_port = 0;
    opts.cluster.join = std::move(join);
    opts.cluster.request_timeout = request_timeout;
    opts.cluster.max_retry_delay = 500ms;
    io = std::make_unique<sio::server>(*sys, opts);
  }
  server_node(const server_node&) = delete;
  server_node& operator=(const server_node&) = delete;
  ~server_node() { stop(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(io->cluster_port()); }

  /// Shuts the node down as a process would: sockets, server, actor system.
  void stop() {
    if (!sys)
      return;
    watchdog guard{"server node " + name + " shutdown", 10s};
    for (auto& x : owned)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    owned.clear();
    sockets.clear();
    io.reset();
    sys.reset();
  }

  std::set<std::string> members() const {
    auto list = io->cluster_members();
    return {list.begin(), list.end()};
  }

  /// Connects a real socket actor `sid` to namespace `nsp` (session probe
  /// "<sid>"), with `hs` as its handshake; null if it did not connect.
  caf::actor connect(const std::string& sid, sio::handshake hs = {},
                     const std::string& nsp = "/") {
    sio::socketio::socket_config sc;
    sc.id = sid;
    sc.ns = sio::socketio::handle_access::state(io->of(nsp));
    sc.session = sys->spawn(session_probe, sid, log);
    owned.push_back(sc.session);
    sc.handshake = std::make_shared<const sio::handshake>(std::move(hs));
    auto socket = sio_test::spawn_socket_actor(*sys, std::move(sc));
    if (!socket)
      return {};
    owned.push_back(socket);
    sockets[sid] = socket;
    auto ok = log->wait([&](const std::vector<session_record>& recs) {
      for (auto& r : recs)
        if (r.who == sid && (r.kind == "connected" || r.kind == "gone"))
          return true;
      return false;
    });
    if (!ok)
      return {};
    for (auto& r : log->snapshot())
      if (r.who == sid && r.kind == "gone")
        return {};
    return socket;
  }

  /// A packet from the client of socket `sid` (e.g. an ACK).
  void from_client(const std::string& sid, sio::socketio::packet p) {
    caf::anon_send(sockets.at(sid), sio::socketio::client_packet_atom::value, std::move(p));
  }
};

/// Waits (bounded) until every node lists every other node (full mesh).
/// Bounded generously: forming the mesh is not what these tests time, and a
/// machine busy with a parallel build can take seconds to connect.
inline bool wait_mesh(const std::vector<server_node*>& nodes) {
  return eventually([&] {
    for (auto* n : nodes) {
      std::set<std::string> want;
      for (auto* m : nodes)
        if (m != n)
          want.insert(m->address());
      if (n->members() != want)
        return false;
    }
    return true;
  }, std::chrono::seconds{10});
}

} // namespace sio_cluster_test
