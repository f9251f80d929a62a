#include "sio/http_server.hpp"

#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "engineio/callback_handler.hpp"
#include "net/acceptor_actor.hpp"
#include "net/address_limiter.hpp"
#include "net/engine_endpoint.hpp"
#include "net/http_connection.hpp"
#include "net/static_file_route.hpp"
#include "net/tls_context.hpp"
#include "util/debug_log.hpp"

namespace sio {

using namespace sio::net;

/// One Asio io_context and its thread; every connection lives on one shard.
struct io_shard {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  live_counter live = std::make_shared<std::atomic<std::size_t>>(0);
  std::thread thread;
};

namespace {

/// SCHED_BATCH for the calling thread (see listen_options::batch_scheduling).
/// Allowed without privileges; where it is not, the thread keeps its policy.
void use_batch_scheduling() {
#ifdef SCHED_BATCH
  sched_param param{};
  param.sched_priority = 0;
  ::sched_setscheduler(0, SCHED_BATCH, &param); // 0: this thread (Linux)
#endif
}

} // namespace

struct http_server::impl {
  impl(caf::actor_system& s, listen_options o) : sys(s), opts(std::move(o)) {
    if (opts.max_connections_per_ip > 0)
      per_address = std::make_shared<address_limiter>(opts.max_connections_per_ip);
    for (unsigned n = 0; n < std::max(1u, opts.io_threads); ++n)
      shards.push_back(std::make_unique<io_shard>());
    acceptor.emplace(shards.front()->ioc);
    accept_retry.emplace(shards.front()->ioc);
  }

  void do_accept() {
    acceptor->async_accept(shards.front()->ioc.get_executor(), [this](beast::error_code ec,
                                                                     tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open())
        return;
      if (ec) {
        // Out of file descriptors (or similar): retrying at once would spin a
        // core while nothing can change; existing clients go on meanwhile.
        util::log_line("accept failed (", ec.message(), "), retrying in 100 ms");
        accept_retry->expires_after(std::chrono::milliseconds{100});
        accept_retry->async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec)
            do_accept();
        });
        return;
      }
      if (shards.size() == 1) // nothing to choose
        start_connection(std::move(s), live_connection{shards.front()->live});
      else
        caf::anon_send(acceptor_actor, assign_atom::value, static_cast<int>(s.release()),
                       std::string{});
      do_accept();
    });
  }

  /// Serves `s` on the shard its executor belongs to.
  void start_connection(tcp::socket s, live_connection token, std::string_view bytes_read = {}) {
    if (per_address) {
      beast::error_code ec;
      auto peer = s.remote_endpoint(ec);
      if (ec)
        return; // gone already
      auto address = peer.address().to_string();
      auto slot = per_address->try_acquire(address);
      if (!slot) {
        // Refused before reading anything: the cheapest answer to a flood.
        util::log_line("connection from ", address, " refused: max_connections_per_ip (",
                       opts.max_connections_per_ip, ") reached");
        s.close(ec);
        return;
      }
      token.hold(std::move(slot));
    }
    http_connection_limits limits;
    limits.max_header_bytes = opts.max_header_bytes;
    limits.max_body_bytes = max_body;
    limits.idle_timeout = opts.idle_timeout;
    limits.tls_handshake_timeout = opts.tls_handshake_timeout;
    std::make_shared<http_connection>(std::move(s), routes, limits, std::move(token), bytes_read,
                                      tls)
      ->start();
  }

  /// The acceptor actor's choice: adopt the descriptor on that shard.
  void deliver(std::size_t index, int fd, live_connection token, std::string bytes_read = {}) {
    auto& shard = *shards[index];
    auto held = std::make_shared<live_connection>(std::move(token));
    asio::post(shard.ioc, [this, index, fd, held, bytes = std::move(bytes_read)] {
      tcp::socket s{shards[index]->ioc.get_executor()};
      // The descriptor's own protocol: a handed-over one may differ from ours.
      sockaddr_storage addr{};
      socklen_t len = sizeof(addr);
      auto protocol = endpoint_protocol;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        protocol = addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
      beast::error_code ec;
      s.assign(protocol, fd, ec);
      if (ec) {
        ::close(fd);
        return;
      }
      start_connection(std::move(s), std::move(*held), bytes);
    });
  }

  void mount(std::string prefix, std::shared_ptr<http_route> route) {
    auto copy = std::make_shared<std::vector<mounted_route>>(*routes);
    copy->push_back({std::move(prefix), std::move(route)});
    // Longest prefix first, so "/socket.io/" wins over "/".
    std::stable_sort(copy->begin(), copy->end(), [](const auto& a, const auto& b) {
      return a.prefix.size() > b.prefix.size();
    });
    routes = std::move(copy);
  }

  /// An Engine.IO endpoint (bare or under Socket.IO) at opts.path.
  void mount_engine(engine_options opts, engineio::handler_factory factory,
                    endpoint_wiring wiring = {}) {
    opts.path = normalize_path(opts.path);
    max_body = std::max(max_body, opts.max_http_buffer_size);
    auto path = opts.path;
    if (!wiring.sid_prefix.empty())
      sid_prefix = wiring.sid_prefix;
    auto ep = std::make_shared<engine_endpoint>(sys, std::move(opts), std::move(factory),
                                                std::move(wiring.sessions),
                                                std::move(wiring.sid_prefix),
                                                std::move(wiring.forward),
                                                std::move(wiring.forward_ws));
    engines.push_back(ep);
    mount(std::move(path), ep);
  }

  static std::string normalize_path(std::string p) {
    if (p.empty() || p.front() != '/')
      p.insert(p.begin(), '/');
    if (p.back() != '/')
      p.push_back('/');
    return p;
  }

  caf::actor_system& sys;
  listen_options opts;
  std::shared_ptr<asio::ssl::context> tls; // with a certificate only; set by start()
  std::vector<std::unique_ptr<io_shard>> shards;
  std::optional<tcp::acceptor> acceptor;       // on shard 0
  std::optional<asio::steady_timer> accept_retry;
  caf::actor acceptor_actor;                   // with several shards only
  tcp endpoint_protocol = tcp::v4();
  std::shared_ptr<const std::vector<mounted_route>> routes =
    std::make_shared<std::vector<mounted_route>>();
  std::vector<std::shared_ptr<engine_endpoint>> engines;
  std::shared_ptr<address_limiter> per_address; // max_connections_per_ip, if set
  std::size_t max_body = 0;
  std::string sid_prefix;
  std::uint16_t port = 0;
  bool running = false;
};

http_server::http_server(caf::actor_system& sys, listen_options opts)
  : impl_(std::make_unique<impl>(sys, std::move(opts))) {
}

http_server::~http_server() {
  stop();
}

void http_server::serve_engine(engine_options opts, engine_handlers handlers) {
  impl_->mount_engine(std::move(opts),
                      engineio::make_callback_handler_factory(std::move(handlers)));
}

void http_server::serve(server& io) {
  auto ep = net::socketio_endpoint_of(io);
  impl_->mount_engine(std::move(ep.options), std::move(ep.factory), std::move(ep.wiring));
}

void http_server::serve_file(std::string url_path, std::string file_path,
                             std::string content_type) {
  auto prefix = url_path;
  impl_->mount(std::move(prefix), std::make_shared<static_file_route>(
                                    std::move(url_path), std::move(file_path),
                                    std::move(content_type)));
}

std::uint16_t http_server::start() {
  auto& i = *impl_;
  if (i.max_body == 0)
    i.max_body = 1000000;
  if (i.opts.tls())
    i.tls = net::make_tls_context(i.opts); // throws before anything listens
  tcp::endpoint ep{asio::ip::make_address(i.opts.host), i.opts.port};
  i.endpoint_protocol = ep.protocol();
  i.acceptor->open(ep.protocol());
  i.acceptor->set_option(asio::socket_base::reuse_address(true));
  i.acceptor->bind(ep);
  i.acceptor->listen(asio::socket_base::max_listen_connections);
  i.port = i.acceptor->local_endpoint().port();
  if (i.shards.size() > 1) {
    net::acceptor_config ac;
    ac.balance = i.opts.balance;
    for (auto& sh : i.shards)
      ac.loads.push_back(sh->live);
    ac.deliver = [&i](std::size_t target, int fd, std::string bytes, live_connection token) {
      i.deliver(target, fd, std::move(token), std::move(bytes));
    };
    i.acceptor_actor = net::spawn_acceptor(i.sys, std::move(ac));
  }
  i.do_accept();
  i.running = true;
  for (auto& sh : i.shards)
    sh->thread = std::thread{[&ioc = sh->ioc, batch = i.opts.batch_scheduling] {
      if (batch)
        use_batch_scheduling();
      ioc.run();
    }};
  return i.port;
}

void http_server::stop() {
  auto& i = *impl_;
  if (!i.running)
    return;
  i.running = false;
  asio::post(i.shards.front()->ioc, [&i] {
    beast::error_code ec;
    i.acceptor->close(ec);
    i.accept_retry->cancel();
  });
  if (i.acceptor_actor)
    caf::anon_send_exit(std::exchange(i.acceptor_actor, nullptr), caf::exit_reason::user_shutdown);
  // Sessions end with the server: an actor left running would keep the actor
  // system from shutting down. Their transports close on the I/O threads, so
  // those run until every session is gone (bounded).
  for (auto& e : i.engines)
    e->registry()->for_each([](const std::string&, const caf::actor& a) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{3};
  while (session_count() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  for (auto& sh : i.shards) {
    sh->work.reset();
    sh->ioc.stop();
  }
  for (auto& sh : i.shards)
    if (sh->thread.joinable())
      sh->thread.join();
}

void http_server::adopt(int fd, std::string bytes_read) {
  auto& i = *impl_;
  if (i.acceptor_actor)
    caf::anon_send(i.acceptor_actor, assign_atom::value, fd, std::move(bytes_read));
  else
    i.deliver(0, fd, live_connection{i.shards.front()->live}, std::move(bytes_read));
}

std::string http_server::sid_prefix() const {
  return impl_->sid_prefix;
}

std::uint16_t http_server::port() const noexcept {
  return impl_->port;
}

std::vector<std::size_t> http_server::shard_loads() const {
  std::vector<std::size_t> loads;
  for (auto& sh : impl_->shards)
    loads.push_back(sh->live->load(std::memory_order_relaxed));
  return loads;
}

std::size_t http_server::session_count() const {
  std::size_t n = 0;
  for (auto& e : impl_->engines)
    n += e->registry()->size();
  return n;
}

} // namespace sio
