// One wiring point for a sio-actor program: the command line (and CAF's INI
// file), the HTTP listener, the cluster, --workers and the shutdown signals.
// A program says what it serves; run_app() does the rest:
//
//   int main(int argc, char** argv) {
//     sio::app_config cfg;
//     return sio::run_app(argc, argv, cfg, "my-app", {[](sio::app& a) {
//       a.io().on_connection([](sio::socket& s) { ... });
//     }});
//   }
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>

#include "sio/listen_options.hpp"
#include "sio/server.hpp"

namespace sio {

class http_server;

/// The options every sio-actor program has. Derive from it to add your own
/// (opt_group{custom_options_, "global"}.add(...) in your constructor); set a
/// field in your constructor to change its default.
struct app_config : caf::actor_system_config {
  app_config();

  std::uint16_t port = 3000;
  std::string host = "127.0.0.1";
  unsigned io_threads = 1;
  std::string balance = "least-connection";
  /// Engine.IO heartbeat (ms) and the time a client has to join a namespace.
  std::int64_t ping_interval = 25000;
  std::int64_t ping_timeout = 20000;
  std::int64_t connect_timeout = 45000;
  std::size_t max_http_buffer_size = 1000000;
  /// Caps against abusive clients; 0: off (see listen/engine/server_options).
  std::size_t max_connections_per_ip = 0;
  std::size_t max_sessions = 0;
  std::size_t max_rooms_per_socket = 0;
  std::size_t max_dynamic_namespaces = 0;
  /// Connection state recovery: ms a disconnected client's state and the
  /// events it missed are kept (0: off, the library's default).
  std::int64_t recovery_window = 0;
  /// A recovered socket runs the namespace middlewares again (Node's
  /// skipMiddlewares: false); by default it skips them.
  bool recovery_run_middlewares = false;
  /// Also accept socket.io-client 1.x/2.x (Engine.IO v3), as Node's allowEIO3.
  bool allow_eio3 = false;
  /// The Socket.IO parser, "json" or "msgpack" (server_options::parser).
  std::string parser = "json";
  /// HTTPS/WSS: PEM certificate chain and private key (--tls-cert, --tls-key);
  /// both empty: plain HTTP (see listen_options).
  std::string tls_cert;
  std::string tls_key;
  /// Worker processes behind one primary (0: a single process).
  unsigned workers = 0;
  /// host:port of this node's cluster endpoint; empty (and no --join): a single node.
  std::string cluster_listen;
  /// Members to contact (repeatable --join host:port).
  std::vector<std::string> join;
  bool cluster_insecure = false;
  /// Set by a primary on its workers' command lines, never by hand.
  int worker_socket = -1;
  int worker_report = -1;
  std::uint16_t public_port = 0; // the primary's port: the one clients reach

  /// The listener and server options the command line asked for.
  listen_options to_listen_options() const;
  server_options to_server_options() const;
};

class app;

struct app_setup {
  /// Registers namespaces, handlers and files, before the listener starts.
  /// Throw (std::exception) to refuse to start: the message is printed.
  std::function<void(app&)> start;
  /// Adjusts the options taken from the command line (optional).
  std::function<void(listen_options&, server_options&)> options = nullptr;
  /// Runs once listening, except in a --workers worker (optional).
  std::function<void(app&)> started = nullptr;
};

/// What a program's setup gets: the parts run_app() built.
class app {
public:
  app(caf::actor_system& sys, const app_config& cfg, http_server& http, server& io)
    : sys_(sys), cfg_(cfg), http_(http), io_(io) {}

  caf::actor_system& system() noexcept { return sys_; }
  const app_config& config() const noexcept { return cfg_; }
  http_server& http() noexcept { return http_; }
  server& io() noexcept { return io_; }
  /// The port clients connect to: in a --workers worker the primary's,
  /// otherwise the bound one; 0 until the listener has started.
  std::uint16_t port() const noexcept {
    return cfg_.public_port != 0 && port_.load() != 0 ? cfg_.public_port : port_.load();
  }
  /// This process's own bound port (a worker's is for direct debugging only).
  std::uint16_t listen_port() const noexcept { return port_.load(); }
  /// Runs after SIGINT/SIGTERM once the listener has stopped and every
  /// session closed (in reverse order of registration), or when start fails:
  /// stop the program's own actors here.
  void on_stop(std::function<void()> f) { on_stop_.push_back(std::move(f)); }

private:
  friend int run_app(int, char**, app_config&, const std::string&, app_setup);
  caf::actor_system& sys_;
  const app_config& cfg_;
  http_server& http_;
  server& io_;
  std::atomic<std::uint16_t> port_{0};
  std::vector<std::function<void()>> on_stop_;
};

/// Parses the command line into `cfg`; with --workers N runs the primary
/// (which starts N copies of this program as workers), otherwise builds the
/// HTTP listener and the Socket.IO server (a cluster node with
/// --cluster-listen or --join), calls setup.start, prints
/// "<name> listening on http://HOST:PORT" (https:// with --tls-cert) and
/// serves until SIGINT or SIGTERM.
/// Returns the exit code for main().
int run_app(int argc, char** argv, app_config& cfg, const std::string& name, app_setup setup);

} // namespace sio
