// A foreign CAF node for tests/integration/hostile_cluster.test.js: tries to
// join a sio-actor cluster the plain way, with CAF's middleman and no TLS
// credentials, as any program on the network could.
//
//   sio-foreign-node HOST PORT [TIMEOUT_MS]
//
// Prints "GOT ACTOR <id>" and exits 0 if remote_actor() handed out an actor
// handle (the cluster port let a stranger in); prints "REFUSED: <why>" and
// exits 2 if it failed, or 3 if it had no answer within TIMEOUT_MS (default
// 5000), which also counts as refused.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <string>
#include <thread>

#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: sio-foreign-node HOST PORT [TIMEOUT_MS]" << std::endl;
    return 64;
  }
  std::string host = argv[1];
  auto port = static_cast<std::uint16_t>(std::strtoul(argv[2], nullptr, 10));
  auto timeout = std::chrono::milliseconds{argc > 3 ? std::strtol(argv[3], nullptr, 10) : 5000};

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  // No arguments of ours for CAF to parse.
  char* no_args[] = {argv[0], nullptr};
  if (auto err = cfg.parse(1, no_args)) {
    std::cerr << "sio-foreign-node: " << cfg.render(err) << std::endl;
    return 64;
  }
  caf::actor_system sys{cfg};
  auto attempt = std::async(std::launch::async, [&] {
    auto res = sys.middleman().remote_actor(host, port);
    if (res)
      return "GOT ACTOR " + std::to_string(res->id());
    return "REFUSED: " + sys.render(res.error());
  });
  if (attempt.wait_for(timeout) != std::future_status::ready) {
    std::cout << "REFUSED: no answer within " << timeout.count() << " ms" << std::endl;
    // remote_actor() is still blocked inside the middleman: leave without
    // tearing the actor system down.
    std::_Exit(3);
  }
  auto result = attempt.get();
  std::cout << result << std::endl;
  std::_Exit(result.rfind("GOT ACTOR", 0) == 0 ? 0 : 2);
}
