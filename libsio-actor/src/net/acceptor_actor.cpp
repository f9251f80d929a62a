#include "net/acceptor_actor.hpp"

#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "net/balancer.hpp"

namespace sio::net {

namespace {

class acceptor_actor final : public caf::event_based_actor {
public:
  acceptor_actor(caf::actor_config& cfg, acceptor_config ac)
    : caf::event_based_actor(cfg), cfg_(std::move(ac)), balancer_(cfg_.balance) {
  }

  caf::behavior make_behavior() override {
    return {
      [=](assign_atom, int fd, std::string& bytes_read) {
        if (cfg_.loads.empty()) {
          ::close(fd);
          return;
        }
        loads_.resize(cfg_.loads.size());
        for (std::size_t i = 0; i < loads_.size(); ++i)
          loads_[i] = cfg_.loads[i]->load(std::memory_order_relaxed);
        auto target = balancer_.pick(loads_);
        live_connection token{cfg_.count_in_token ? cfg_.loads[target] : nullptr};
        cfg_.deliver(target, fd, std::move(bytes_read), std::move(token));
      },
    };
  }

private:
  acceptor_config cfg_;
  balancer balancer_;
  std::vector<std::size_t> loads_;
};

} // namespace

caf::actor spawn_acceptor(caf::actor_system& sys, acceptor_config cfg) {
  return sys.spawn<acceptor_actor>(std::move(cfg));
}

} // namespace sio::net
