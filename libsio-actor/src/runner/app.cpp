#include "sio/app.hpp"

#include <sched.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/settings.hpp>

#include "sio/balance.hpp"
#include "sio/cli.hpp"
#include "sio/cluster_options.hpp"
#include "sio/http_server.hpp"
#include "sio/signals.hpp"
#include "sio/workers.hpp"

namespace sio {

app_config::app_config() {
  configure_cluster(*this);
  opt_group{custom_options_, "global"}
    .add(port, "port,p", "listen port (0: any free port)")
    .add(host, "host", "bind address")
    .add(io_threads, "io-threads", "I/O shards (Asio threads); the acceptor spreads connections")
    .add(balance, "balance", "how connections are spread: least-connection, round-robin or random")
    .add(ping_interval, "ping-interval", "Engine.IO ping interval in ms")
    .add(ping_timeout, "ping-timeout", "Engine.IO ping timeout in ms")
    .add(connect_timeout, "connect-timeout", "ms a client has to join a namespace")
    .add(max_http_buffer_size, "max-http-buffer-size",
         "largest packet a client may send, in bytes (larger: disconnected)")
    .add(max_connections_per_ip, "max-connections-per-ip",
         "open connections one client address may have (0: no limit)")
    .add(max_sessions, "max-sessions", "Engine.IO sessions open at once (0: no limit)")
    .add(max_rooms_per_socket, "max-rooms-per-socket",
         "rooms one socket may join besides its own (0: no limit)")
    .add(max_dynamic_namespaces, "max-dynamic-namespaces",
         "namespaces dynamic matchers may create (0: no limit)")
    .add(recovery_window, "recovery-window",
         "connection state recovery: ms a disconnected client's state and missed events "
         "are kept (0: off)")
    .add(recovery_run_middlewares, "recovery-run-middlewares",
         "a recovered socket runs the namespace middlewares again (default: skips them)")
    .add(allow_eio3, "allow-eio3",
         "also accept Socket.IO v2 clients (socket.io-client 1.x/2.x, Engine.IO v3)")
    .add(parser, "parser",
         "Socket.IO parser: json (socket.io-parser) or msgpack (socket.io-msgpack-parser)")
    .add(tls_cert, "tls-cert", "PEM certificate chain: serve HTTPS and WSS (with --tls-key)")
    .add(tls_key, "tls-key", "PEM private key of --tls-cert")
    .add(workers, "workers",
         "worker processes behind one primary (0: a single process); sessions stay sticky")
    .add(cluster_listen, "cluster-listen",
         "host:port of this node's cluster endpoint (e.g. 127.0.0.1:4001; port 0 picks one)")
    .add(cluster_insecure, "cluster-insecure",
         "cluster links without TLS: anyone who reaches the cluster port joins (unsafe)")
    .add(worker_socket, "worker-socket", "(set by the primary) hand-over socket")
    .add(worker_report, "worker-report", "(set by the primary) load report socket")
    .add(public_port, "public-port", "(set by the primary) the port clients connect to");
  // --join host:port (repeatable) is taken from the command line by run_app:
  // CAF 0.17 has no repeated options.
}

listen_options app_config::to_listen_options() const {
  listen_options l;
  l.host = host;
  l.port = port;
  l.io_threads = std::max(1u, io_threads);
  auto b = parse_balance(balance);
  if (!b)
    throw std::invalid_argument("--balance wants least-connection, round-robin or random, got '"
                                + balance + "'");
  l.balance = *b;
  l.max_connections_per_ip = max_connections_per_ip;
  l.tls_certificate_file = tls_cert;
  l.tls_private_key_file = tls_key;
  if (l.tls() && (tls_cert.empty() || tls_key.empty()))
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  // The primary routes a connection by its first request, which TLS hides.
  if (l.tls() && workers > 0)
    throw std::invalid_argument("--tls-cert does not work with --workers (terminate TLS in "
                                "front of the primary instead)");
  return l;
}

server_options app_config::to_server_options() const {
  server_options s;
  s.engine.ping_interval = std::chrono::milliseconds{ping_interval};
  s.engine.ping_timeout = std::chrono::milliseconds{ping_timeout};
  s.engine.max_http_buffer_size = max_http_buffer_size;
  s.engine.max_sessions = max_sessions;
  s.engine.allow_eio3 = allow_eio3;
  if (parser == "msgpack")
    s.parser = wire_format::msgpack;
  else if (parser != "json")
    throw std::invalid_argument("--parser wants json or msgpack, got '" + parser + "'");
  s.connect_timeout = std::chrono::milliseconds{connect_timeout};
  s.max_rooms_per_socket = max_rooms_per_socket;
  s.max_dynamic_namespaces = max_dynamic_namespaces;
  if (recovery_window < 0)
    throw std::invalid_argument("--recovery-window wants ms >= 0");
  s.connection_state_recovery.enabled = recovery_window > 0;
  if (recovery_window > 0)
    s.connection_state_recovery.max_disconnection_duration =
      std::chrono::milliseconds{recovery_window};
  s.connection_state_recovery.skip_middlewares = !recovery_run_middlewares;
  if (!cluster_listen.empty() || !join.empty()) {
    s.cluster.enabled = true;
    s.cluster.join = join;
    s.cluster.insecure = cluster_insecure;
    if (!cluster_listen.empty()
        && !split_host_port(cluster_listen, s.cluster.listen_host, s.cluster.listen_port))
      throw std::invalid_argument("--cluster-listen wants host:port, got '" + cluster_listen + "'");
  }
  return s;
}

namespace {

/// CPUs this process may run on (its affinity mask: taskset, cgroups' cpusets).
std::size_t usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0)
    return 0;
  return static_cast<std::size_t>(CPU_COUNT(&set));
}

/// CAF starts max(cores of the machine, 4) work-stealing workers, however few
/// CPUs the process may use: pinned to one core that is four threads taking
/// turns and polling each other. Unless the user configured it, run one worker
/// per usable CPU, and on a single CPU the sharing policy (no stealing);
/// docs/deployment.md has the figures.
void fit_scheduler_to_cpus(app_config& cfg) {
  auto cpus = usable_cpus();
  if (cpus == 0)
    return;
  if (caf::get_if(&cfg.content, "scheduler.max-threads") == nullptr)
    caf::put(cfg.content, "scheduler.max-threads", cpus);
  if (cpus == 1 && caf::get_if(&cfg.content, "scheduler.policy") == nullptr)
    caf::put(cfg.content, "scheduler.policy", caf::atom("sharing"));
}

int fail(const std::string& name, const std::string& why) {
  std::cerr << name << ": " << why << std::endl;
  return 1;
}

int run_primary_for(caf::actor_system& sys, const app_config& cfg, const std::string& name,
                    int argc, char** argv) {
  primary_options po;
  po.host = cfg.host;
  po.port = cfg.port;
  po.workers = cfg.workers;
  po.cluster_insecure = cfg.cluster_insecure;
  po.name = name;
  po.balance = cfg.to_listen_options().balance;
  po.worker_command = worker_command_from(argc, argv);
  return run_primary(sys, po);
}

} // namespace

int run_app(int argc, char** argv, app_config& cfg, const std::string& name, app_setup setup) {
  block_shutdown_signals(); // before any thread exists: the signals reach wait_for_shutdown_signal()
  auto args = normalize_cli_args(argc, argv);
  cfg.join = take_repeated_option(args, "join");
  if (auto err = cfg.parse(std::move(args)))
    return fail(name, cfg.render(err));
  if (cfg.cli_helptext_printed)
    return 0;
  fit_scheduler_to_cpus(cfg);
  listen_options lo;
  server_options so;
  try {
    lo = cfg.to_listen_options();
    so = cfg.to_server_options();
    if (setup.options)
      setup.options(lo, so);
  } catch (const std::exception& e) {
    return fail(name, e.what());
  }
  bool primary = cfg.workers > 0 && cfg.worker_socket < 0;
  if (primary && !cfg.cluster_insecure && cfg.openssl_certificate.empty())
    use_run_credentials(cfg); // the workers' cluster, sealed without any set-up
  caf::actor_system sys{cfg};
  if (primary)
    return run_primary_for(sys, cfg, name, argc, argv);

  std::unique_ptr<http_server> http;
  std::unique_ptr<server> io;
  std::unique_ptr<app> a;
  try {
    http = std::make_unique<http_server>(sys, lo);
    io = std::make_unique<server>(sys, so);
    a = std::make_unique<app>(sys, cfg, *http, *io);
    if (setup.start)
      setup.start(*a);
    http->serve(*io);
    a->port_ = http->start();
  } catch (const std::exception& e) {
    if (a)
      for (auto i = a->on_stop_.rbegin(); i != a->on_stop_.rend(); ++i)
        (*i)();
    return fail(name, e.what());
  }
  std::unique_ptr<primary_link> link;
  if (cfg.worker_socket >= 0) {
    link = std::make_unique<primary_link>(*http, cfg.worker_socket, cfg.worker_report);
    // Its own listener is for direct debugging; clients come through the primary.
    std::cout << name << " worker (pid " << ::getpid() << ") serving on port " << a->listen_port()
              << ", cluster endpoint 127.0.0.1:" << io->cluster_port() << std::endl;
  } else {
    std::cout << name << " listening on " << (lo.tls() ? "https" : "http") << "://" << lo.host << ":" << a->port() << std::endl;
    if (io->cluster_port() != 0)
      std::cout << name << " cluster endpoint " << so.cluster.listen_host << ":"
                << io->cluster_port() << std::endl;
    if (setup.started)
      setup.started(*a);
  }
  wait_for_shutdown_signal();
  link.reset();
  http->stop(); // every session closes: no handler runs after this
  for (auto i = a->on_stop_.rbegin(); i != a->on_stop_.rend(); ++i)
    (*i)();
  io.reset(); // its handlers may hold a reference to the app
  a.reset();
  return 0;
}

} // namespace sio
