// The log behind connection state recovery (socketio/recovery_log.hpp):
// offsets as per-origin vectors, what a returning socket missed, the bounds,
// and when it must get a fresh socket instead of a partial replay.
#include "socketio/recovery_log.hpp"

#include <catch2/catch.hpp>

#include <thread>

#include <chrono>
#include <string>
#include <vector>

using namespace sio::socketio;
using namespace std::chrono_literals;

namespace {

using clock_type = recovery_log::clock;

recovery_log::packets packet_of(const std::string& text) {
  return {std::make_shared<const sio::engineio::packet>(sio::engineio::packet::from_wire(text, false))};
}

std::string text_of(const logged_event& e) {
  return e.encoded.at(0)->wire();
}

std::vector<std::string> texts(const std::vector<logged_event>& events) {
  std::vector<std::string> out;
  for (auto& e : events)
    out.push_back(text_of(e));
  return out;
}

sio::recovery_options small(std::size_t events = 100) {
  sio::recovery_options o;
  o.enabled = true;
  o.max_disconnection_duration = 1000ms;
  o.max_log_events = events;
  return o;
}

/// Delivers an event of `origin` (numbered there, or here when it is ours) to
/// `rooms`, as the adapter does; returns the offset appended to it.
std::string deliver(recovery_log& log, const std::string& origin, std::uint64_t seq,
                    std::set<std::string> rooms, const std::string& text,
                    clock_type::time_point now, bool local = false) {
  auto offset = log.advance(origin, seq, now);
  log.append(origin, seq, std::move(rooms), {}, local, packet_of(text), now);
  return offset;
}

persisted_session make_session(std::string pid, std::string sid, std::vector<std::string> rooms,
                               sio::json data, std::uint64_t generation = 0) {
  persisted_session s;
  s.pid = std::move(pid);
  s.sid = std::move(sid);
  s.rooms = std::move(rooms);
  s.data = std::move(data);
  s.generation = generation;
  return s;
}

} // namespace

TEST_CASE("recovery offsets: encode and decode are exact and strict", "[recovery]") {
  offset_vector v{{"abc", 7}, {"z9", 0}};
  CHECK(encode_offset(v) == "abc.7-z9.0");
  CHECK(decode_offset("abc.7-z9.0") == v);
  for (const char* bad : {"", "-", "abc", "abc.", ".7", "abc.7-", "-abc.7", "ABC.7", "a_b.1",
                          "abc.-1", "abc.1x", "abc.7-abc.8", "abc.99999999999999999999"})
    CHECK_FALSE(decode_offset(bad));
  std::string many;
  for (int i = 0; i < 65; ++i)
    many += (i ? "-o" : "o") + std::to_string(i) + ".1";
  CHECK_FALSE(decode_offset(many)); // more origins than any cluster has
  CHECK(make_origin_id().size() == 8);
  CHECK(decode_offset(make_origin_id() + ".1"));
}

TEST_CASE("recovery log: a socket misses what came after its offset, in its rooms", "[recovery]") {
  auto now = clock_type::now();
  recovery_log log{"me", small()};
  auto seen = deliver(log, "me", log.next_seq(), {"r"}, "a", now);
  deliver(log, "other", 5, {}, "b", now);       // namespace-wide, from another node
  deliver(log, "me", log.next_seq(), {"x"}, "c", now); // a room it is not in
  deliver(log, "me", log.next_seq(), {"r"}, "d", now);
  log.persist(make_session("pid1", "sid1", {"sid1", "r"}, sio::json{{"k", 1}}), now);
  auto s = log.take("pid1", seen, now);
  REQUIRE(s);
  CHECK(s->sid == "sid1");
  CHECK(s->data == sio::json{{"k", 1}});
  CHECK(texts(log.missed(*decode_offset(seen), s->rooms)) == std::vector<std::string>{"b", "d"});
  CHECK_FALSE(log.take("pid1", seen, now)); // restored once
}

TEST_CASE("recovery log: offsets mean the same on another node's log", "[recovery]") {
  // Two nodes deliver A's and B's events interleaved differently; a client
  // that read node 1 up to some point returns to node 2.
  auto now = clock_type::now();
  recovery_log one{"a", small()};
  recovery_log two{"b", small()};
  deliver(one, "a", 1, {}, "a1", now);
  deliver(two, "a", 1, {}, "a1", now);
  deliver(two, "b", 1, {}, "b1", now); // node 2 has b1 before a2
  auto at = deliver(one, "a", 2, {}, "a2", now);
  deliver(two, "a", 2, {}, "a2", now);
  deliver(one, "b", 1, {}, "b1", now); // node 1 gets b1 after a2
  deliver(two, "a", 3, {}, "a3", now);
  // Read on node 1 up to a2: it never saw b1, nor a3.
  CHECK(texts(two.missed(*decode_offset(at), {"s"})) == std::vector<std::string>{"b1", "a3"});
}

TEST_CASE("recovery log: the bounds drop the oldest, and then a fresh socket", "[recovery]") {
  auto now = clock_type::now();
  recovery_log log{"me", small(3)};
  auto first = deliver(log, "me", log.next_seq(), {}, "1", now);
  auto second = deliver(log, "me", log.next_seq(), {}, "2", now);
  for (int i = 3; i <= 5; ++i)
    deliver(log, "me", log.next_seq(), {}, std::to_string(i), now);
  CHECK(log.event_count() == 3);
  log.persist(make_session("p", "s", {"s"}, nullptr), now);
  CHECK_FALSE(log.take("p", first, now)); // "2" is gone: no partial replay
  log.persist(make_session("p", "s", {"s"}, nullptr), now);
  auto back = log.take("p", second, now);
  REQUIRE(back);
  CHECK(texts(log.missed(*decode_offset(second), back->rooms))
        == std::vector<std::string>{"3", "4", "5"});
}

TEST_CASE("recovery log: the window expires sessions and events", "[recovery]") {
  auto now = clock_type::now();
  recovery_log log{"me", small()};
  auto seen = deliver(log, "me", log.next_seq(), {}, "1", now);
  log.persist(make_session("p", "s", {"s"}, nullptr), now);
  CHECK_FALSE(log.take("p", seen, now + 1001ms));
  log.persist(make_session("q", "t", {"t"}, nullptr), now);
  log.expire(now + 1001ms);
  CHECK(log.session_count() == 0);
  CHECK(log.event_count() == 0);
}

TEST_CASE("recovery log: sessions are bounded, the oldest go first", "[recovery]") {
  auto now = clock_type::now();
  auto o = small();
  o.max_sessions = 2;
  recovery_log log{"me", o};
  auto seen = deliver(log, "me", log.next_seq(), {}, "1", now);
  for (auto pid : {"p1", "p2", "p3"})
    log.persist(make_session(pid, pid, {}, nullptr), now);
  CHECK(log.session_count() == 2);
  CHECK_FALSE(log.take("p1", seen, now));
  CHECK(log.take("p3", seen, now));
}

TEST_CASE("recovery: another node's own events merge in by origin number", "[recovery]") {
  auto now = clock_type::now();
  recovery_log here{"b", small()};
  // This node's log: a1 (from A), b1, a3 (from A); A alone delivered a2 and a4.
  deliver(here, "a", 1, {}, "a1", now);
  deliver(here, "b", 1, {}, "b1", now);
  deliver(here, "a", 3, {}, "a3", now);
  recovery_log there{"a", small()};
  auto at = deliver(there, "a", 1, {}, "a1", now);
  deliver(there, "a", 2, {"s"}, "a2", now, true);
  deliver(there, "a", 3, {}, "a3", now);
  deliver(there, "a", 4, {"s"}, "a4", now, true);
  auto theirs = there.missed(*decode_offset(at), {"s"}, recovery_log::which::only_local);
  CHECK(texts(theirs) == std::vector<std::string>{"a2", "a4"});
  auto merged = merge_by_origin(here.missed(*decode_offset(at), {"s"}), theirs);
  CHECK(texts(merged) == std::vector<std::string>{"b1", "a2", "a3", "a4"});
}

TEST_CASE("recovery: Node's recoverable disconnect reasons", "[recovery]") {
  for (auto r : {"transport close", "transport error", "ping timeout", "forced close",
                 "server shutting down", "forced server close"})
    CHECK(is_recoverable_reason(r));
  for (auto r : {"client namespace disconnect", "server namespace disconnect", "parse error"})
    CHECK_FALSE(is_recoverable_reason(r));
}

TEST_CASE("recovery replicas: restorable only once the socket left or its node is gone",
          "[recovery]") {
  auto now = clock_type::now();
  recovery_log log{"b", small()};
  auto at = deliver(log, "a", 1, {}, "a1", now);
  deliver(log, "a", 2, {"r"}, "a2", now);
  log.keep_replica(make_session("p", "s", {"s", "r"}, sio::json{{"k", 1}}), "A:1",
                   replica_kind::connected, now);
  CHECK(log.replica_owner("p") == "A:1");
  // Live on its node: a second connection with its pid gets no copy.
  CHECK_FALSE(log.take_replica("p", at, false, now));
  CHECK(log.replica_count() == 1);
  // Its node is gone: restorable, with what this node's log has since `at`.
  log.owner_gone("A:1", now);
  auto s = log.take_replica("p", at, false, now);
  REQUIRE(s);
  CHECK(s->sid == "s");
  CHECK(s->data == sio::json{{"k", 1}});
  CHECK(s->moved);
  CHECK(texts(log.missed(*decode_offset(at), s->rooms, recovery_log::which::not_local))
        == std::vector<std::string>{"a2"});
  CHECK(log.replica_count() == 0); // once
}

TEST_CASE("recovery replicas: generations, forget, the window", "[recovery]") {
  auto now = clock_type::now();
  recovery_log log{"b", small()};
  auto at = deliver(log, "a", 1, {}, "a1", now);
  // Restored on C (generation 1) before A's last message (generation 0) arrived.
  log.keep_replica(make_session("p", "s", {"s", "new"}, nullptr, 1), "C:1",
                   replica_kind::connected, now);
  log.keep_replica(make_session("p", "s", {"s", "old"}, nullptr, 0), "A:1",
                   replica_kind::disconnected, now);
  CHECK(log.replica_owner("p") == "C:1");
  CHECK_FALSE(log.take_replica("p", at, false, now)); // live on C
  // The owner answered "unreachable": restorable at once.
  auto s = log.take_replica("p", at, true, now);
  REQUIRE(s);
  CHECK(s->rooms == std::vector<std::string>{"s", "new"});
  // Forget drops it; a disconnected one expires with the window.
  log.keep_replica(make_session("q", "t", {"t"}, nullptr), "A:1", replica_kind::connected, now);
  log.keep_replica(make_session("q", "", {}, nullptr), "A:1", replica_kind::forget, now);
  CHECK(log.replica_count() == 0);
  log.keep_replica(make_session("x", "y", {"y"}, nullptr), "A:1", replica_kind::disconnected, now);
  log.expire(now + 1500ms);
  CHECK(log.replica_count() == 0);
  // Bounded: beyond max_replicas a socket is recoverable from its node only.
  auto opts = small();
  opts.max_replicas = 2;
  recovery_log bounded{"b", opts};
  for (auto pid : {"1", "2", "3"})
    bounded.keep_replica(make_session(pid, pid, {}, nullptr), "A:1", replica_kind::connected, now);
  CHECK(bounded.replica_count() == 2);
}

TEST_CASE("recovery: a log that started after the offset does not cover it; merging drops "
          "what both logs have",
          "[recovery]") {
  auto now = clock_type::now();
  recovery_log old_node{"w", small()};
  auto at = deliver(old_node, "s", 1, {}, "s1", now);
  deliver(old_node, "s", 2, {}, "s2", now);
  deliver(old_node, "s", 3, {}, "s3", now);
  recovery_log new_node{"r", small()}; // started after s2
  deliver(new_node, "s", 3, {}, "s3", now);
  CHECK(old_node.covers(at));
  CHECK_FALSE(new_node.covers(at)); // s2 happened before it started
  auto merged = merge_by_origin(new_node.missed(*decode_offset(at), {"x"}),
                                old_node.missed(*decode_offset(at), {"x"}));
  CHECK(texts(merged) == std::vector<std::string>{"s2", "s3"});
}

TEST_CASE("recovery: an origin the offset does not name missed only events after the socket's birth",
          "[recovery]") {
  auto now = clock_type::now();
  recovery_log log{"r", small()};
  deliver(log, "old", 1, {}, "before birth", now);
  std::this_thread::sleep_for(5ms);
  auto born = wall_clock_ms();
  std::this_thread::sleep_for(5ms);
  deliver(log, "old", 2, {}, "after birth", now);
  // The client's node never heard of "old" (it started later): its offset names only "w".
  auto missed = log.missed(offset_vector{{"w", 3}}, {"x"}, recovery_log::which::all, born);
  CHECK(texts(missed) == std::vector<std::string>{"after birth"});
}
