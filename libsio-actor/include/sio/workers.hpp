// One primary process and N worker processes on one machine: the C++ answer
// to pm2 cluster mode + @socket.io/sticky + @socket.io/cluster-adapter.
//
// The primary listens, reads the head of each new connection's first request,
// and hands the connection (with the bytes it read) to a worker over a Unix
// socket (SCM_RIGHTS): to the worker that owns the request's `sid` (sids carry
// their node's tag), or, for a new session, to the worker the balance method
// picks. Workers join the primary's cluster, so broadcasts, rooms and requests
// span them all; a request that still lands on the wrong worker (keep-alive
// connections) is forwarded to the owner through the cluster.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "sio/balance.hpp"

namespace sio {

class http_server;

struct primary_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned workers = 2;
  balance_method balance = balance_method::least_connection;
  /// A worker's command line (argv[0] first). The primary appends
  /// --worker-socket=FD --worker-report=FD --join=<its cluster address>
  /// --cluster-listen=127.0.0.1:0 --port=0 --public-port=<its own port>, and
  /// its --openssl.certificate, --openssl.key and --openssl.cafile
  /// (sio::app_config has every one of them).
  std::vector<std::string> worker_command;
  /// SIGTERM: how long workers get to close their sessions before SIGKILL.
  std::chrono::milliseconds stop_timeout{10000};
  /// Rolling restart (SIGHUP): after a new worker reported, how long before
  /// the next old worker stops: the clients of the one just replaced come
  /// back meanwhile and recover their sockets from the workers still
  /// running (connection state recovery), and the newcomer meets every member.
  std::chrono::milliseconds rolling_pause{2000};
  /// Name in log lines.
  std::string name = "sio-actor";
  /// The primary's cluster (workers join it) without TLS; see
  /// cluster_options::insecure. Otherwise it uses the system's openssl options,
  /// e.g. from use_run_credentials(), and passes them to the workers.
  bool cluster_insecure = false;
};

/// Runs the primary until SIGINT or SIGTERM (call block_shutdown_signals()
/// first in main()). SIGHUP restarts the workers one at a time (a new one
/// starts before the old one stops); a worker that dies is started again.
/// Prints "<name> listening on http://HOST:PORT". Returns the exit code.
int run_primary(caf::actor_system& sys, primary_options opts);

/// In a worker: serves the connections the primary hands over on
/// `handover_fd` with `http` (already started) and reports its session count
/// on `report_fd`, from two threads, until destroyed (before `http`). When the
/// primary goes away, the process gets SIGTERM (wait_for_shutdown_signal()
/// returns).
class primary_link {
public:
  primary_link(http_server& http, int handover_fd, int report_fd);
  ~primary_link();
  primary_link(const primary_link&) = delete;
  primary_link& operator=(const primary_link&) = delete;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The worker command for run_primary(): this program's own path and `argv`
/// without the options the primary sets itself (--workers, --port,
/// --cluster-listen, in both "--opt value" and "--opt=value" forms).
std::vector<std::string> worker_command_from(int argc, char** argv);

} // namespace sio
