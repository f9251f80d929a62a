// The primary process and the worker side of the hand-over (sio/workers.hpp).
#include "sio/workers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "cluster/node_tag.hpp"
#include "net/acceptor_actor.hpp"
#include "net/http_types.hpp"
#include "net/request_head.hpp"
#include "sio/http_server.hpp"
#include "sio/server.hpp"
#include "util/debug_log.hpp"

namespace sio {

using namespace sio::net;

namespace {

// -- the hand-over wire format --------------------------------------------------
// primary -> worker (handover socket): a 4-byte length, then that many bytes
// already read from the connection; the descriptor rides along (SCM_RIGHTS).
// worker -> primary (report socket): lines "tag <sid tag>" once, then
// "load <sessions>" every 100 ms.

bool send_connection(int channel, int fd, const std::string& bytes) {
  std::uint32_t len = static_cast<std::uint32_t>(bytes.size());
  iovec iov[2];
  iov[0].iov_base = &len;
  iov[0].iov_len = sizeof(len);
  iov[1].iov_base = const_cast<char*>(bytes.data());
  iov[1].iov_len = bytes.size();
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = bytes.empty() ? 1 : 2;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  auto* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  auto total = sizeof(len) + bytes.size();
  auto n = ::sendmsg(channel, &msg, MSG_NOSIGNAL);
  if (n < 0)
    return false;
  // The descriptor went with the first byte; the rest is plain data.
  std::size_t sent = static_cast<std::size_t>(n);
  while (sent < total) {
    auto offset = sent - sizeof(len);
    auto m = ::send(channel, bytes.data() + offset, bytes.size() - offset, MSG_NOSIGNAL);
    if (m <= 0)
      return false;
    sent += static_cast<std::size_t>(m);
  }
  return true;
}

bool read_exactly(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    auto m = ::read(fd, p, n);
    if (m <= 0)
      return false;
    p += m;
    n -= static_cast<std::size_t>(m);
  }
  return true;
}

/// Receives one connection; false when the primary is gone.
bool receive_connection(int channel, int& fd, std::string& bytes) {
  std::uint32_t len = 0;
  iovec iov{&len, sizeof(len)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  auto n = ::recvmsg(channel, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  if (n != static_cast<ssize_t>(sizeof(len)))
    return false;
  fd = -1;
  for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  bytes.resize(len);
  return len == 0 || read_exactly(channel, bytes.data(), len);
}

// -- the primary ------------------------------------------------------------------

struct worker_slot {
  unsigned index = 0;
  pid_t pid = -1;
  int handover = -1;  // primary's end
  int report = -1;    // primary's end; its reader thread alone closes it
  unsigned generation = 0; // which worker the slot holds (a reader's is fixed)
  std::string tag;    // its sids' node tag, once reported
  live_counter load = std::make_shared<std::atomic<std::size_t>>(0);
  // load = live connections (last report) + connections handed but not yet
  // received by the worker (so a burst of connects counts before any report).
  std::size_t connections = 0;
  std::size_t handed = 0;
  std::size_t received = 0;
  std::thread reader;
  bool retiring = false;
};

class primary {
public:
  primary(caf::actor_system& sys, primary_options opts) : sys_(sys), opts_(std::move(opts)) {}

  int run() {
    // The primary is a cluster member too: workers join it, and so each other.
    server_options so;
    so.cluster.enabled = true;
    so.cluster.listen_host = "127.0.0.1";
    so.cluster.listen_port = 0;
    so.cluster.insecure = opts_.cluster_insecure;
    cluster_ = std::make_unique<server>(sys_, so);
    cluster_address_ = "127.0.0.1:" + std::to_string(cluster_->cluster_port());

    tcp::endpoint ep{asio::ip::make_address(opts_.host), opts_.port};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);

    slots_.resize(opts_.workers);
    acceptor_config ac;
    ac.balance = opts_.balance;
    for (unsigned k = 0; k < opts_.workers; ++k) {
      slots_[k] = std::make_shared<worker_slot>();
      slots_[k]->index = k;
      ac.loads.push_back(slots_[k]->load);
    }
    ac.deliver = [this](std::size_t target, int fd, std::string bytes, live_connection) {
      hand_over(target, fd, bytes);
    };
    ac.count_in_token = false; // the loads are the workers' reports (update_load)
    acceptor_actor_ = spawn_acceptor(sys_, std::move(ac));
    public_port_ = acceptor_.local_endpoint().port();
    // Before the workers exist: this is the line to read, not theirs.
    std::cout << opts_.name << " listening on http://" << opts_.host << ":"
              << public_port_ << " (primary, " << opts_.workers
              << " workers)" << std::endl;
    for (auto& slot : slots_)
      start_worker(slot);
    do_accept();
    io_thread_ = std::thread{[this] { ioc_.run(); }};
    supervise();
    shutdown();
    return 0;
  }

private:
  void log(const std::string& text) {
    util::write_stderr(opts_.name + " primary: " + text + "\n"); // one write: workers share stderr
  }

  void start_worker(const std::shared_ptr<worker_slot>& slot) {
    int handover[2];
    int report[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, handover) != 0
        || ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, report) != 0) {
      log(std::string{"socketpair failed: "} + std::strerror(errno));
      return;
    }
    std::vector<std::string> args = opts_.worker_command;
    args.push_back("--worker-socket=" + std::to_string(handover[1]));
    args.push_back("--worker-report=" + std::to_string(report[1]));
    args.push_back("--join=" + cluster_address_);
    args.push_back("--cluster-listen=127.0.0.1:0");
    args.push_back("--port=0");
    args.push_back("--public-port=" + std::to_string(public_port_));
    // The workers present the primary's certificate (the passphrase, if any,
    // stays out of the command line: they read it where the primary did).
    const auto& sys_cfg = sys_.config();
    for (auto [name, value] : {std::pair{"certificate", &sys_cfg.openssl_certificate},
                               std::pair{"key", &sys_cfg.openssl_key},
                               std::pair{"cafile", &sys_cfg.openssl_cafile}})
      if (!value->empty())
        args.push_back(std::string{"--openssl."} + name + "=" + *value);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    auto pid = ::fork();
    if (pid == 0) {
      // The child keeps its two ends (not close-on-exec) and nothing else of ours.
      ::fcntl(handover[1], F_SETFD, 0);
      ::fcntl(report[1], F_SETFD, 0);
      sigset_t none;
      sigemptyset(&none);
      ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
      ::execv(argv[0], argv.data());
      _exit(127);
    }
    ::close(handover[1]);
    ::close(report[1]);
    if (pid < 0) {
      log(std::string{"fork failed: "} + std::strerror(errno));
      ::close(handover[0]);
      ::close(report[0]);
      return;
    }
    std::lock_guard<std::mutex> guard{mutex_};
    if (slot->reader.joinable())
      slot->reader.detach(); // the old reader ends on its own (its socket closed)
    slot->pid = pid;
    slot->handover = handover[0];
    slot->report = report[0];
    slot->tag.clear();
    slot->load->store(0);
    slot->connections = slot->handed = slot->received = 0;
    slot->retiring = false;
    auto generation = ++slot->generation;
    log("worker " + std::to_string(slot->index) + " started (pid " + std::to_string(pid) + ")");
    slot->reader = std::thread{[this, slot, fd = report[0], generation] {
      read_reports(*slot, fd, generation);
      // Closed here, not by close_slot: a descriptor closed under a blocked
      // read() could be reused by the next worker's socketpair meanwhile.
      std::lock_guard<std::mutex> guard{mutex_};
      if (slot->generation == generation)
        slot->report = -1;
      ::close(fd);
    }};
  }

  /// "tag X" / "load N" lines from one worker, until its socket closes.
  void read_reports(worker_slot& slot, int fd, unsigned generation) {
    std::string buf;
    char chunk[256];
    for (;;) {
      auto n = ::read(fd, chunk, sizeof(chunk));
      if (n <= 0)
        break;
      buf.append(chunk, static_cast<std::size_t>(n));
      std::size_t eol;
      while ((eol = buf.find('\n')) != std::string::npos) {
        auto line = buf.substr(0, eol);
        buf.erase(0, eol + 1);
        std::lock_guard<std::mutex> guard{mutex_};
        if (slot.generation != generation)
          return; // a newer worker owns the slot
        if (line.rfind("tag ", 0) == 0)
          slot.tag = line.substr(4);
        else if (line.rfind("load ", 0) == 0) {
          char* end = nullptr;
          slot.connections = std::strtoull(line.c_str() + 5, &end, 10);
          slot.received = std::strtoull(end, nullptr, 10);
          update_load(slot);
        }
      }
    }
  }

  void do_accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (!acceptor_.is_open())
        return;
      if (!ec)
        read_head(std::make_shared<tcp::socket>(std::move(s)));
      do_accept();
    });
  }

  /// Reads the first request head (bounded in size and time), then routes.
  void read_head(std::shared_ptr<tcp::socket> s) {
    auto buf = std::make_shared<std::string>();
    auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::seconds{10});
    timer->async_wait([s](beast::error_code ec) {
      if (!ec) {
        beast::error_code ignored;
        s->close(ignored);
      }
    });
    asio::async_read_until(*s, asio::dynamic_string_buffer(*buf, 16 * 1024), "\r\n\r\n",
                           [this, s, buf, timer](beast::error_code ec, std::size_t) {
                             timer->cancel();
                             if (ec)
                               return; // closed, too large or too slow: dropped
                             route(s, *buf);
                           });
  }

  void route(const std::shared_ptr<tcp::socket>& s, const std::string& head) {
    auto sid = sid_of_request_head(head);
    beast::error_code ec;
    int fd = s->release(ec);
    if (ec)
      return;
    auto tag = cluster::tag_of_sid(sid);
    if (!tag.empty()) {
      std::lock_guard<std::mutex> guard{mutex_};
      for (auto& slot : slots_)
        if (slot->tag == tag && !slot->retiring) {
          hand_over_locked(*slot, fd, head);
          return;
        }
    }
    // A new session (or a sid whose worker is gone: it answers "unknown").
    caf::anon_send(acceptor_actor_, assign_atom::value, fd, head);
  }

  void hand_over(std::size_t target, int fd, const std::string& bytes) {
    std::lock_guard<std::mutex> guard{mutex_};
    auto& slot = *slots_[target];
    if (slot.retiring) {
      // Being replaced: the next live worker takes it.
      for (auto& other : slots_)
        if (!other->retiring && other->handover >= 0) {
          hand_over_locked(*other, fd, bytes);
          return;
        }
    }
    hand_over_locked(slot, fd, bytes);
  }

  void hand_over_locked(worker_slot& slot, int fd, const std::string& bytes) {
    if (slot.handover < 0 || !send_connection(slot.handover, fd, bytes))
      log("could not hand a connection to worker " + std::to_string(slot.index));
    else {
      ++slot.handed;
      update_load(slot);
    }
    ::close(fd);
  }

  static void update_load(worker_slot& slot) {
    auto in_flight = slot.handed > slot.received ? slot.handed - slot.received : 0;
    slot.load->store(slot.connections + in_flight);
  }

  /// Main thread: signals and dead workers, until SIGINT / SIGTERM.
  void supervise() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    for (;;) {
      timespec wait{0, 100 * 1000 * 1000};
      int sig = ::sigtimedwait(&set, nullptr, &wait);
      if (sig == SIGINT || sig == SIGTERM)
        return;
      if (sig == SIGHUP)
        rolling_restart();
      reap_and_restart();
    }
  }

  void reap_and_restart() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      for (auto& slot : slots_) {
        if (slot->pid != pid)
          continue;
        log("worker " + std::to_string(slot->index) + " (pid " + std::to_string(pid) + ") "
            + (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                   : "exited with " + std::to_string(WEXITSTATUS(status)))
            + "; starting it again");
        close_slot(*slot);
        start_worker(slot);
      }
    }
  }

  void close_slot(worker_slot& slot) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (slot.handover >= 0)
      ::close(std::exchange(slot.handover, -1));
    if (slot.report >= 0)
      ::shutdown(std::exchange(slot.report, -1), SHUT_RDWR); // its reader ends and closes it
    slot.pid = -1;
  }

  /// SIGHUP: each worker in turn is replaced; never fewer than N-1 serve.
  void rolling_restart() {
    log("SIGHUP: rolling restart of " + std::to_string(slots_.size()) + " workers");
    for (auto& slot : slots_) {
      pid_t old = slot->pid;
      {
        std::lock_guard<std::mutex> guard{mutex_};
        slot->retiring = true; // new sessions go elsewhere meanwhile
      }
      if (old > 0) {
        ::kill(old, SIGTERM);
        wait_for_exit(old, opts_.stop_timeout);
      }
      close_slot(*slot);
      start_worker(slot);
      wait_until_reported(*slot, std::chrono::seconds{10});
      if (&slot != &slots_.back())
        std::this_thread::sleep_for(opts_.rolling_pause);
    }
    log("rolling restart done");
  }

  void wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }

  void wait_until_reported(worker_slot& slot, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> guard{mutex_};
        if (!slot.tag.empty())
          return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }

  void shutdown() {
    log("stopping: no new connections; workers close their sessions");
    asio::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    for (auto& slot : slots_)
      if (slot->pid > 0)
        ::kill(slot->pid, SIGTERM);
    for (auto& slot : slots_)
      if (slot->pid > 0)
        wait_for_exit(slot->pid, opts_.stop_timeout);
    for (auto& slot : slots_) {
      close_slot(*slot);
      if (slot->reader.joinable())
        slot->reader.join();
    }
    ioc_.stop();
    if (io_thread_.joinable())
      io_thread_.join();
    caf::anon_send_exit(acceptor_actor_, caf::exit_reason::user_shutdown);
    cluster_.reset();
  }

  caf::actor_system& sys_;
  primary_options opts_;
  asio::io_context ioc_{1};
  tcp::acceptor acceptor_{ioc_};
  std::thread io_thread_;
  std::unique_ptr<server> cluster_;
  std::string cluster_address_;
  std::uint16_t public_port_ = 0; // where clients connect (the workers' --public-port)
  caf::actor acceptor_actor_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<worker_slot>> slots_;
};

} // namespace

int run_primary(caf::actor_system& sys, primary_options opts) {
  if (opts.workers == 0 || opts.worker_command.empty()) {
    std::cerr << opts.name << ": run_primary needs workers and a worker command" << std::endl;
    return 1;
  }
  primary p{sys, std::move(opts)};
  try {
    return p.run();
  } catch (const std::exception& e) {
    std::cerr << opts.name << " primary: " << e.what() << std::endl;
    return 1;
  }
}

struct primary_link::impl {
  impl(http_server& h, int handover, int report_to)
    : http(h), handover_fd(handover), report_fd(report_to) {}
  http_server& http;
  int handover_fd;
  int report_fd;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> received{0}; // connections from the primary so far
  std::thread receiver;
  std::thread reporter;

  bool report(const std::string& line) {
    auto text = line + "\n";
    return ::send(report_fd, text.data(), text.size(), MSG_NOSIGNAL)
           == static_cast<ssize_t>(text.size());
  }
};

primary_link::primary_link(http_server& http, int handover_fd, int report_fd)
  : impl_(std::make_unique<impl>(http, handover_fd, report_fd)) {
  auto* i = impl_.get();
  i->report("tag " + cluster::tag_of_prefix(http.sid_prefix()));
  i->receiver = std::thread{[i] {
    int fd = -1;
    std::string bytes;
    while (receive_connection(i->handover_fd, fd, bytes))
      if (fd >= 0) {
        i->http.adopt(fd, std::move(bytes));
        ++i->received;
      }
    if (!i->stopping)
      ::kill(::getpid(), SIGTERM); // the primary is gone: stop as it would have asked
  }};
  i->reporter = std::thread{[i] {
    auto live_connections = [i] {
      std::size_t n = 0;
      for (auto k : i->http.shard_loads())
        n += k;
      return n;
    };
    while (!i->stopping) {
      // Received first: a connection adopted in between is counted twice
      // (briefly too high), never missed.
      auto received = i->received.load();
      auto live = live_connections();
      if (!i->report("load " + std::to_string(live) + " " + std::to_string(received)))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }};
}

primary_link::~primary_link() {
  impl_->stopping = true;
  ::shutdown(impl_->handover_fd, SHUT_RDWR); // ends the blocking receive
  ::shutdown(impl_->report_fd, SHUT_RDWR);
  impl_->receiver.join();
  impl_->reporter.join();
  ::close(impl_->handover_fd);
  ::close(impl_->report_fd);
}

std::vector<std::string> worker_command_from(int argc, char** argv) {
  std::vector<std::string> cmd;
  char self[4096];
  auto n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  cmd.push_back(n > 0 ? std::string{self, static_cast<std::size_t>(n)} : std::string{argv[0]});
  auto dropped = [](const std::string& a, const std::string& name) {
    return a == name || a.rfind(name + "=", 0) == 0;
  };
  for (int k = 1; k < argc; ++k) {
    std::string a = argv[k];
    bool drop = false;
    for (const char* name : {"--workers", "--port", "-p", "--cluster-listen"})
      if (dropped(a, name)) {
        drop = true;
        if (a == name && k + 1 < argc)
          ++k; // its value
      }
    if (!drop)
      cmd.push_back(a);
  }
  return cmd;
}

} // namespace sio
