// The balancer behind the acceptor actors: least-connection, round-robin, random.
#include <catch2/catch.hpp>

#include <map>

#include "net/balancer.hpp"

using sio::balance_method;
using sio::net::balancer;

TEST_CASE("balance methods parse from their command-line names", "[balancer]") {
  CHECK(sio::parse_balance("least-connection") == balance_method::least_connection);
  CHECK(sio::parse_balance("round-robin") == balance_method::round_robin);
  CHECK(sio::parse_balance("random") == balance_method::random);
  CHECK_FALSE(sio::parse_balance("fastest").has_value());
  CHECK(std::string{sio::to_string(balance_method::round_robin)} == "round-robin");
}

TEST_CASE("least-connection picks the least loaded target", "[balancer]") {
  balancer b{balance_method::least_connection, 1};
  CHECK(b.pick({5, 2, 7}) == 1);
  CHECK(b.pick({0, 9, 9}) == 0);
  CHECK(b.pick({4, 4, 3}) == 2);
}

TEST_CASE("least-connection takes turns among equally loaded targets", "[balancer]") {
  // A burst of connects before any count moved must not pile onto target 0.
  balancer b{balance_method::least_connection, 1};
  std::map<std::size_t, int> seen;
  for (int i = 0; i < 30; ++i)
    ++seen[b.pick({1, 1, 1})];
  CHECK(seen[0] == 10);
  CHECK(seen[1] == 10);
  CHECK(seen[2] == 10);
}

TEST_CASE("least-connection fills the targets evenly as loads grow", "[balancer]") {
  balancer b{balance_method::least_connection, 1};
  std::vector<std::size_t> loads{7, 0, 3, 0};
  for (int i = 0; i < 30; ++i)
    ++loads[b.pick(loads)];
  // 40 connections over 4 targets: every target ends at 10.
  CHECK(loads == std::vector<std::size_t>{10, 10, 10, 10});
}

TEST_CASE("round-robin ignores the loads", "[balancer]") {
  balancer b{balance_method::round_robin, 1};
  std::vector<std::size_t> picks;
  for (int i = 0; i < 6; ++i)
    picks.push_back(b.pick({100, 0, 0}));
  CHECK(picks == std::vector<std::size_t>{0, 1, 2, 0, 1, 2});
}

TEST_CASE("random spreads over every target", "[balancer]") {
  balancer b{balance_method::random, 42};
  std::map<std::size_t, int> seen;
  for (int i = 0; i < 3000; ++i)
    ++seen[b.pick({0, 0, 0})];
  REQUIRE(seen.size() == 3);
  for (auto& [target, n] : seen)
    CHECK((n > 850 && n < 1150)); // 1000 expected; bounds are ~5.5 standard deviations
}
