// sio-bench: a Socket.IO v5 / Engine.IO v4 load generator over WebSocket.
//
// One thread, one Asio io_context, many Beast WebSocket clients. It speaks
// the protocol itself: WebSocket upgrade to <path>?EIO=4&transport=websocket,
// Engine.IO OPEN `0{...}`, Socket.IO CONNECT `40` -> `40{...}`, PING `2` ->
// PONG `3`, events `42[...]` and `42<id>[...]`, acks `43<id>[...]`. It only
// looks at what it measures (event name, ack id, a "t=<ns>#<seq>" marker).
//
//   sio-bench connect   --url ws://127.0.0.1:3000 --clients N [--hold S]
//   sio-bench echo      --url ... --clients N --duration S
//   sio-bench broadcast --url ... --clients N --duration S --rate R
//   sio-bench rooms     --url ... --clients N --duration S --rate R --room-size 10,100
// plus --server-pid PID (server CPU and RSS from /proc), --label NAME, and the
// options listed by --help. The server must implement apps/chat/main.cpp's
// benchmark contract (echo, join, to-room, chat message).
//
// Output: one JSON object per measurement on stdout (one line each), a human
// line per measurement on stderr. Exit status 0 when every client connected
// (and joined its room) and the run finished, 1 otherwise, 2 on bad usage.
// Only loopback targets (127.0.0.0/8) are accepted.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::ordered_json;

// -- time and process figures ---------------------------------------------------

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

constexpr std::int64_t ns_per_s = 1'000'000'000;

std::int64_t seconds_to_ns(double s) {
  return static_cast<std::int64_t>(s * 1e9);
}

/// CPU seconds (user + system) this process used so far.
double self_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/// Busy and total CPU seconds of the whole machine (all cores), from /proc/stat.
struct machine_sample {
  bool ok = false;
  double busy_s = 0;
  double total_s = 0;
};

machine_sample read_machine() {
  machine_sample out;
  std::ifstream stat{"/proc/stat"};
  std::string cpu;
  if (!(stat >> cpu) || cpu != "cpu")
    return out;
  // user nice system idle iowait irq softirq steal (guest time is inside user)
  unsigned long long v[8] = {};
  for (auto& x : v)
    if (!(stat >> x))
      return out;
  auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  unsigned long long idle = v[3] + v[4];
  unsigned long long total = 0;
  for (auto x : v)
    total += x;
  out.busy_s = static_cast<double>(total - idle) / tick;
  out.total_s = static_cast<double>(total) / tick;
  out.ok = true;
  return out;
}

/// What /proc says of the server: CPU seconds (utime + stime, all threads,
/// clock-tick resolution) and resident set size.
struct proc_sample {
  bool ok = false;
  double cpu_s = 0;
  long rss_kb = 0;
};

proc_sample read_proc(int pid) {
  proc_sample out;
  if (pid <= 0)
    return out;
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!std::getline(stat, line))
    return out;
  auto close = line.rfind(')'); // the command name may contain spaces
  if (close == std::string::npos)
    return out;
  std::istringstream rest{line.substr(close + 2)};
  std::vector<std::string> fields;
  for (std::string f; rest >> f && fields.size() < 13;)
    fields.push_back(f);
  if (fields.size() < 13)
    return out;
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  auto ticks = static_cast<double>(std::stoull(fields[11]) + std::stoull(fields[12]));
  out.cpu_s = ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      out.rss_kb = std::atol(line.c_str() + 6);
      break;
    }
  }
  out.ok = true;
  return out;
}

/// The sum over several server processes (a cluster): CPU and RSS add up.
proc_sample read_procs(const std::vector<int>& pids) {
  proc_sample sum;
  if (pids.empty())
    return sum;
  sum.ok = true;
  for (int pid : pids) {
    auto one = read_proc(pid);
    sum.ok = sum.ok && one.ok;
    sum.cpu_s += one.cpu_s;
    sum.rss_kb += one.rss_kb;
  }
  return sum;
}

double round_to(double x, int digits) {
  double f = std::pow(10.0, digits);
  return std::round(x * f) / f;
}

/// Latency summary in microseconds.
json summarize(std::vector<std::int64_t>& ns) {
  json j = json::object();
  j["samples"] = ns.size();
  if (ns.empty())
    return j;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ns.size())));
    return static_cast<double>(ns[std::min(ns.size(), std::max<std::size_t>(rank, 1)) - 1]) / 1e3;
  };
  long double sum = 0;
  for (auto v : ns)
    sum += v;
  j["p50_us"] = round_to(at(0.50), 1);
  j["p90_us"] = round_to(at(0.90), 1);
  j["p99_us"] = round_to(at(0.99), 1);
  j["max_us"] = round_to(static_cast<double>(ns.back()) / 1e3, 1);
  j["mean_us"] = round_to(static_cast<double>(sum / static_cast<long double>(ns.size())) / 1e3, 1);
  return j;
}

std::string format_us(const json& lat, const char* key) {
  if (!lat.contains(key))
    return "-";
  double us = lat[key].get<double>();
  std::ostringstream os;
  os.precision(3);
  if (us >= 1000)
    os << us / 1000 << "ms";
  else
    os << us << "us";
  return os.str();
}

// -- options -----------------------------------------------------------------------

struct options {
  std::string scenario;
  /// --url, repeatable: clients are spread over the servers in turn (a cluster).
  std::vector<std::string> urls{"ws://127.0.0.1:3000"};
  std::string label;
  std::size_t clients = 100;
  double duration = 5;
  double warmup = 1;
  double settle = 1;
  double hold = 2;
  double rate = 100;
  std::vector<std::size_t> room_sizes{10};
  std::size_t concurrency = 100;
  std::vector<int> server_pids; // --server-pid, repeatable (a cluster: summed)
  std::string payload = "payload-0123456789";
  std::size_t source_addresses = 0; // 0: one per 10,000 clients
  double connect_timeout = 60;
  double drain = 3;
  // Parsed from urls:
  struct target {
    std::string host;
    std::uint16_t port = 0;
    std::string path = "/socket.io/";
  };
  std::vector<target> targets;
};

const char* usage =
  "usage: sio-bench connect|echo|broadcast|rooms [options]\n"
  "  --url ws://127.0.0.1:PORT[/path/]  server (loopback only; path default /socket.io/);\n"
  "                        repeat for a cluster: clients are spread over the servers in turn\n"
  "  --clients N           connections (default 100)\n"
  "  --duration S          measurement window in seconds (default 5)\n"
  "  --warmup S            load before the window, not measured (default 1)\n"
  "  --settle S            idle time after connecting, before the load (default 1)\n"
  "  --hold S              connect: keep the connections this long before reading RSS (default 2)\n"
  "  --rate R              broadcast/rooms: messages per second sent in all (default 100)\n"
  "  --room-size A,B,...   rooms: members per room, one measurement each (default 10)\n"
  "  --concurrency K       handshakes in flight at once (default 100)\n"
  "  --server-pid PID      read the server's CPU and RSS from /proc/PID (repeatable: summed)\n"
  "  --label NAME          copied into the JSON (e.g. sio-actor, node)\n"
  "  --payload TEXT        echo: the string echoed (default payload-0123456789)\n"
  "  --source-addresses K  spread clients over 127.0.0.1..127.0.0.K (default: 1 per 10,000)\n"
  "  --connect-timeout S   give up connecting after S seconds (default 60)\n"
  "  --drain S             broadcast/rooms: wait at most S s for late deliveries (default 3)\n";

[[noreturn]] void bad_usage(const std::string& why) {
  std::cerr << "sio-bench: " << why << "\n" << usage;
  std::exit(2);
}

double to_double(const std::string& name, const std::string& v, double min) {
  try {
    std::size_t used = 0;
    double d = std::stod(v, &used);
    if (used != v.size() || !(d >= min) || !std::isfinite(d))
      throw std::invalid_argument{v};
    return d;
  } catch (const std::exception&) {
    bad_usage(name + ": bad number '" + v + "'");
  }
}

std::size_t to_size(const std::string& name, const std::string& v, std::size_t min) {
  double d = to_double(name, v, static_cast<double>(min));
  if (d != std::floor(d) || d > 1e9)
    bad_usage(name + ": bad count '" + v + "'");
  return static_cast<std::size_t>(d);
}

options::target parse_url(const std::string& url) {
  options::target o;
  const std::string scheme = "ws://";
  if (url.rfind(scheme, 0) != 0)
    bad_usage("--url must start with ws://");
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string::npos)
    o.path = rest.substr(slash);
  if (o.path.empty() || o.path == "/")
    o.path = "/socket.io/";
  auto colon = authority.rfind(':');
  if (colon == std::string::npos)
    bad_usage("--url needs a port");
  o.host = authority.substr(0, colon);
  auto port = to_size("--url port", authority.substr(colon + 1), 1);
  if (port > 65535)
    bad_usage("--url port out of range");
  o.port = static_cast<std::uint16_t>(port);
  if (o.host == "localhost")
    o.host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = net::ip::make_address_v4(o.host, ec);
  if (ec || (addr.to_uint() >> 24) != 127)
    bad_usage("--url host must be an address in 127.0.0.0/8 (loopback only)");
  return o;
}

options parse_options(int argc, char** argv) {
  options o;
  bool url_given = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage;
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0) {
      if (!o.scenario.empty())
        bad_usage("unexpected argument " + a);
      o.scenario = a;
      continue;
    }
    std::string name = a, value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    } else {
      if (i + 1 >= args.size())
        bad_usage(name + " needs a value");
      value = args[++i];
    }
    if (name == "--url") {
      if (!url_given)
        o.urls.clear();
      url_given = true;
      o.urls.push_back(value);
    }
    else if (name == "--label")
      o.label = value;
    else if (name == "--clients")
      o.clients = to_size(name, value, 1);
    else if (name == "--duration")
      o.duration = to_double(name, value, 0.1);
    else if (name == "--warmup")
      o.warmup = to_double(name, value, 0);
    else if (name == "--settle")
      o.settle = to_double(name, value, 0);
    else if (name == "--hold")
      o.hold = to_double(name, value, 0);
    else if (name == "--rate")
      o.rate = to_double(name, value, 0.1);
    else if (name == "--room-size") {
      o.room_sizes.clear();
      std::istringstream in{value};
      for (std::string part; std::getline(in, part, ',');)
        o.room_sizes.push_back(to_size(name, part, 1));
      if (o.room_sizes.empty())
        bad_usage("--room-size needs at least one size");
    } else if (name == "--concurrency")
      o.concurrency = to_size(name, value, 1);
    else if (name == "--server-pid")
      o.server_pids.push_back(static_cast<int>(to_size(name, value, 1)));
    else if (name == "--payload")
      o.payload = value;
    else if (name == "--source-addresses")
      o.source_addresses = to_size(name, value, 1);
    else if (name == "--connect-timeout")
      o.connect_timeout = to_double(name, value, 0.1);
    else if (name == "--drain")
      o.drain = to_double(name, value, 0);
    else
      bad_usage("unknown option " + name);
  }
  if (o.scenario != "connect" && o.scenario != "echo" && o.scenario != "broadcast" && o.scenario != "rooms")
    bad_usage(o.scenario.empty() ? "no scenario given" : "unknown scenario " + o.scenario);
  if (o.source_addresses == 0)
    o.source_addresses = (o.clients + 9999) / 10000;
  if (o.source_addresses > 250)
    bad_usage("--source-addresses: at most 250");
  for (auto& url : o.urls)
    o.targets.push_back(parse_url(url));
  return o;
}

// -- protocol: the few packets the generator reads ----------------------------------------

/// A Socket.IO EVENT or ACK as received: `42[/nsp,][id]["name",...]`, `43[/nsp,]id[...]`.
struct sio_packet {
  char type = 0;                 // '2' event, '3' ack
  std::optional<std::uint64_t> id;
  std::string_view name;         // events only
  std::string_view data;         // the JSON array, unparsed
};

/// Parses the part after the Engine.IO `4`: `2...` or `3...`. Returns false on
/// anything else or anything malformed. No JSON parsing: names with escapes are
/// returned as written.
bool parse_sio(std::string_view p, sio_packet& out) {
  if (p.empty() || (p[0] != '2' && p[0] != '3'))
    return false;
  out = sio_packet{};
  out.type = p[0];
  std::size_t i = 1;
  if (i < p.size() && p[i] == '/') { // namespace
    auto comma = p.find(',', i);
    if (comma == std::string_view::npos)
      return false;
    i = comma + 1;
  }
  if (i < p.size() && p[i] >= '0' && p[i] <= '9') {
    std::uint64_t id = 0;
    std::size_t digits = 0;
    for (; i < p.size() && p[i] >= '0' && p[i] <= '9' && digits < 19; ++i, ++digits)
      id = id * 10 + static_cast<std::uint64_t>(p[i] - '0');
    out.id = id;
  }
  if (i >= p.size() || p[i] != '[')
    return false;
  out.data = p.substr(i);
  if (out.type == '3')
    return out.id.has_value();
  // Event name: the first element, a string.
  if (i + 1 >= p.size() || p[i + 1] != '"')
    return false;
  std::size_t start = i + 2, j = start;
  for (; j < p.size() && p[j] != '"'; ++j)
    if (p[j] == '\\')
      ++j;
  if (j >= p.size())
    return false;
  out.name = p.substr(start, j - start);
  return true;
}

/// The last "t=<ns>#<seq>" in a packet (the timestamp the sender put in its message).
bool parse_marker(std::string_view p, std::int64_t& t, std::uint64_t& seq) {
  auto at = p.rfind("t=");
  if (at == std::string_view::npos)
    return false;
  std::size_t i = at + 2;
  auto number = [&](std::uint64_t& v) {
    std::size_t digits = 0;
    v = 0;
    for (; i < p.size() && p[i] >= '0' && p[i] <= '9' && digits < 19; ++i, ++digits)
      v = v * 10 + static_cast<std::uint64_t>(p[i] - '0');
    return digits > 0;
  };
  std::uint64_t tv = 0;
  if (!number(tv) || i >= p.size() || p[i] != '#')
    return false;
  ++i;
  if (!number(seq))
    return false;
  t = static_cast<std::int64_t>(tv);
  return true;
}

std::string json_string(const std::string& s) {
  return json(s).dump();
}

// -- the clients ---------------------------------------------------------------------------

class bench;
class client;

/// What a scenario wants to hear of.
struct listener {
  virtual ~listener() = default;
  virtual void on_event(client&, const sio_packet&) {}
  virtual void on_ack(client&, const sio_packet&) {}
};

class client {
public:
  enum class phase { idle, connecting, upgrading, opening, joining_namespace, connected, closed };

  client(bench& b, std::size_t index);
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  void start();
  void send(std::string packet);
  void close();
  phase state() const {
    return phase_;
  }
  std::size_t index() const {
    return index_;
  }

  // Scenario state, kept here to avoid a lookup per message.
  std::uint64_t next_ack_id = 1;
  std::uint64_t pending_ack = 0;
  std::int64_t pending_sent_ns = 0;
  std::vector<bool> seen; // broadcast/rooms: sequence numbers received
  bool joined = false;

private:
  void fail(const std::string& what, const beast::error_code& ec);
  void do_read();
  void on_message(std::string_view msg);
  void do_write();
  void set_connected();

  bench& b_;
  std::size_t index_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buf_;
  std::deque<std::string> out_;
  bool writing_ = false;
  phase phase_ = phase::idle;
  std::int64_t started_ns_ = 0;
};

class bench {
public:
  explicit bench(options o) : opt(std::move(o)), guard_(net::make_work_guard(ioc)) {
    for (auto& t : opt.targets) {
      servers_.push_back(tcp::endpoint{net::ip::make_address_v4(t.host), t.port});
      host_headers.push_back(t.host + ":" + std::to_string(t.port));
      targets.push_back(t.path + "?EIO=4&transport=websocket");
    }
    clients.reserve(opt.clients);
    for (std::size_t i = 0; i < opt.clients; ++i)
      clients.push_back(std::make_unique<client>(*this, i));
  }

  /// Runs handlers until `done()` or the deadline (steady clock, ns); true if done.
  template <class Pred>
  bool run_until(Pred&& done, std::int64_t deadline) {
    while (!done()) {
      auto left = deadline - now_ns();
      if (left <= 0)
        return false;
      ioc.run_one_for(std::chrono::nanoseconds{std::min<std::int64_t>(left, 10'000'000)});
    }
    return true;
  }

  void run_for(double seconds) {
    run_until([] { return false; }, now_ns() + seconds_to_ns(seconds));
  }

  /// Connects every client, at most opt.concurrency handshakes at once.
  bool connect_all() {
    connect_begin_ns = now_ns();
    launch();
    run_until([this] { return connected + failed == clients.size(); },
              connect_begin_ns + seconds_to_ns(opt.connect_timeout));
    return connected == clients.size();
  }

  void launch() {
    while (!stopping_ && in_flight < opt.concurrency && next_ < clients.size()) {
      ++in_flight;
      clients[next_++]->start();
    }
  }

  void handshake_done(client&, bool ok, std::int64_t took_ns) {
    --in_flight;
    if (ok) {
      ++connected;
      last_connected_ns = now_ns();
      handshake_ns.push_back(took_ns);
    } else {
      ++failed;
    }
    launch();
  }

  void note_error(const std::string& what) {
    ++errors;
    if (error_samples.size() < 5)
      error_samples.push_back(what);
  }

  /// Closes every connection and lets the aborted operations finish.
  void shutdown() {
    stopping_ = true;
    for (auto& c : clients)
      c->close();
    guard_.reset();
    ioc.run_for(std::chrono::seconds{2});
  }

  /// The common part of every JSON result.
  json header(const std::string& scenario) const {
    json j = json::object();
    j["scenario"] = scenario;
    j["label"] = opt.label;
    j["url"] = opt.urls.size() == 1 ? json(opt.urls.front()) : json(opt.urls);
    j["clients"] = opt.clients;
    j["connected"] = connected;
    j["connect_failed"] = failed;
    j["errors"] = errors;
    if (!error_samples.empty())
      j["error_samples"] = error_samples;
    return j;
  }

  options opt;
  net::io_context ioc{1};
  // Per server; client i uses server i % n.
  std::vector<std::string> host_headers;
  std::vector<std::string> targets;
  std::vector<std::unique_ptr<client>> clients;
  listener* hooks = nullptr;

  std::size_t in_flight = 0;
  std::size_t connected = 0;
  std::size_t failed = 0;
  std::size_t errors = 0; // connections lost after connecting, protocol errors
  std::vector<std::string> error_samples;
  std::int64_t connect_begin_ns = 0;
  std::int64_t last_connected_ns = 0;
  std::vector<std::int64_t> handshake_ns;

  std::size_t server_of(std::size_t client_index) const {
    return client_index % servers_.size();
  }
  const tcp::endpoint& server(std::size_t client_index) const {
    return servers_[server_of(client_index)];
  }

private:
  std::vector<tcp::endpoint> servers_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::size_t next_ = 0;
  bool stopping_ = false;
};

client::client(bench& b, std::size_t index) : b_(b), index_(index), ws_(b.ioc) {}

void client::start() {
  phase_ = phase::connecting;
  started_ns_ = now_ns();
  auto& sock = ws_.next_layer();
  beast::error_code ec;
  sock.open(tcp::v4(), ec);
  if (!ec && b_.opt.source_addresses > 1) {
    // Many source addresses: each has its own ephemeral port range. Without
    // IP_BIND_ADDRESS_NO_PORT, bind() would reserve a port for every destination.
    int one = 1;
    ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    auto source = net::ip::address_v4{static_cast<std::uint32_t>(
      0x7F000001u + index_ % b_.opt.source_addresses)};
    sock.bind(tcp::endpoint{source, 0}, ec);
  }
  if (ec)
    return fail("socket", ec);
  sock.async_connect(b_.server(index_), [this](const beast::error_code& ec) {
    if (ec)
      return fail("connect", ec);
    beast::error_code ignored;
    ws_.next_layer().set_option(tcp::no_delay{true}, ignored);
    phase_ = phase::upgrading;
    ws_.secure_prng(false); // masks need not be unpredictable here
    ws_.auto_fragment(false);
    ws_.read_message_max(4 * 1024 * 1024);
    auto k = b_.server_of(index_);
    ws_.async_handshake(b_.host_headers[k], b_.targets[k], [this](const beast::error_code& ec) {
      if (ec)
        return fail("websocket handshake", ec);
      phase_ = phase::opening;
      ws_.text(true);
      do_read();
    });
  });
}

void client::fail(const std::string& what, const beast::error_code& ec) {
  auto before = phase_;
  phase_ = phase::closed;
  beast::error_code ignored;
  ws_.next_layer().close(ignored);
  if (before == phase::closed)
    return;
  std::string text = what + (ec ? ": " + ec.message() : std::string{});
  if (before == phase::connected) {
    b_.note_error("client " + std::to_string(index_) + " lost: " + text);
  } else {
    b_.note_error("client " + std::to_string(index_) + " could not connect: " + text);
    b_.handshake_done(*this, false, 0);
  }
}

void client::close() {
  if (phase_ == phase::idle || phase_ == phase::closed) {
    phase_ = phase::closed;
    return;
  }
  auto before = phase_;
  phase_ = phase::closed;
  beast::error_code ignored;
  ws_.next_layer().close(ignored);
  if (before != phase::connected)
    b_.handshake_done(*this, false, 0);
}

void client::send(std::string packet) {
  if (phase_ == phase::closed)
    return;
  out_.push_back(std::move(packet));
  if (!writing_)
    do_write();
}

void client::do_write() {
  writing_ = true;
  ws_.async_write(net::buffer(out_.front()), [this](const beast::error_code& ec, std::size_t) {
    writing_ = false;
    if (phase_ == phase::closed)
      return;
    if (ec)
      return fail("write", ec);
    out_.pop_front();
    if (!out_.empty())
      do_write();
  });
}

void client::do_read() {
  ws_.async_read(buf_, [this](const beast::error_code& ec, std::size_t) {
    if (phase_ == phase::closed)
      return;
    if (ec)
      return fail("read", ec);
    auto data = buf_.data();
    on_message(std::string_view{static_cast<const char*>(data.data()), data.size()});
    buf_.consume(buf_.size());
    if (phase_ != phase::closed)
      do_read();
  });
}

void client::set_connected() {
  phase_ = phase::connected;
  b_.handshake_done(*this, true, now_ns() - started_ns_);
}

void client::on_message(std::string_view msg) {
  if (msg.empty())
    return;
  switch (msg[0]) {
    case '2': // PING
      if (msg.size() == 1)
        send("3");
      return;
    case '0': // OPEN
      if (phase_ == phase::opening) {
        phase_ = phase::joining_namespace;
        send("40");
      }
      return;
    case '1': // CLOSE
      return fail("server closed the session", {});
    case '4':
      break;
    default: // NOOP, anything else
      return;
  }
  auto p = msg.substr(1);
  if (p.empty())
    return;
  if (p[0] == '0') { // CONNECT
    if (phase_ == phase::joining_namespace)
      set_connected();
    return;
  }
  if (p[0] == '4') // CONNECT_ERROR
    return fail("connect_error " + std::string{p.substr(1)}, {});
  if (p[0] == '1') // DISCONNECT
    return fail("disconnected by the server", {});
  sio_packet packet;
  if (!parse_sio(p, packet)) {
    b_.note_error("unparsed packet: " + std::string{msg.substr(0, 80)});
    return;
  }
  if (!b_.hooks)
    return;
  if (packet.type == '2')
    b_.hooks->on_event(*this, packet);
  else
    b_.hooks->on_ack(*this, packet);
}

// -- measurement windows ------------------------------------------------------------------

/// CPU of the generator and of the server between two points in time.
struct window {
  std::int64_t begin_ns = 0;
  std::int64_t end_ns = 0;
  double self_cpu0 = 0, self_cpu1 = 0;
  proc_sample server0, server1;
  machine_sample machine0, machine1;

  void open(const std::vector<int>& pids, std::int64_t at) {
    begin_ns = at;
    self_cpu0 = self_cpu_s();
    server0 = read_procs(pids);
    machine0 = read_machine();
  }
  void close(const std::vector<int>& pids, std::int64_t at) {
    end_ns = at;
    self_cpu1 = self_cpu_s();
    server1 = read_procs(pids);
    machine1 = read_machine();
  }
  bool contains(std::int64_t t) const {
    return t >= begin_ns && (end_ns == 0 || t < end_ns);
  }
  double seconds() const {
    return static_cast<double>(end_ns - begin_ns) / 1e9;
  }
  double self_fraction() const {
    return (self_cpu1 - self_cpu0) / seconds();
  }
  std::optional<double> server_cpu() const {
    if (!server0.ok || !server1.ok)
      return std::nullopt;
    return server1.cpu_s - server0.cpu_s;
  }
  /// Adds duration, generator CPU and server CPU (total and per `unit`) to j.
  void report(json& j, double units, const std::string& unit) const {
    j["duration_s"] = round_to(seconds(), 3);
    j["generator_cpu_s"] = round_to(self_cpu1 - self_cpu0, 3);
    j["generator_cpu_fraction"] = round_to(self_fraction(), 3);
    j["generator_saturated"] = self_fraction() > 0.9;
    if (auto cpu = server_cpu()) {
      j["server_cpu_s"] = round_to(*cpu, 3);
      j["server_cpu_fraction"] = round_to(*cpu / seconds(), 3);
      if (units > 0)
        j["server_cpu_per_" + unit + "_us"] = round_to(*cpu / units * 1e6, 2);
    }
    if (machine0.ok && machine1.ok) {
      // Whatever else ran meanwhile (other processes, interrupts not charged
      // to either side): a large value means the figures are disturbed.
      double busy = machine1.busy_s - machine0.busy_s;
      double others = busy - (self_cpu1 - self_cpu0) - server_cpu().value_or(0);
      j["machine_busy_cpu_s"] = round_to(busy, 3);
      j["other_cpu_fraction"] = round_to(std::max(0.0, others) / seconds(), 3);
    }
  }
};

void emit_result(const json& j, const std::string& human) {
  std::cout << j.dump() << std::endl;
  std::cerr << human << std::endl;
}

std::string tag(const options& o) {
  return o.label.empty() ? std::string{} : " [" + o.label + "]";
}

std::string percent(double fraction) {
  return std::to_string(static_cast<int>(std::lround(fraction * 100))) + "%";
}

// -- scenario: connect --------------------------------------------------------------------

int run_connect(bench& b) {
  const auto& o = b.opt;
  auto before = read_procs(o.server_pids);
  window w;
  w.open(o.server_pids, now_ns());
  bool all = b.connect_all();
  w.close(o.server_pids, b.connected > 0 ? b.last_connected_ns : now_ns());
  b.run_for(o.hold);
  auto after = read_procs(o.server_pids);

  json j = b.header("connect");
  double rate = b.connected / w.seconds();
  j["connect_time_s"] = round_to(w.seconds(), 3);
  j["connections_per_s"] = round_to(rate, 1);
  j["concurrency"] = o.concurrency;
  j["source_addresses"] = o.source_addresses;
  j["handshake_latency"] = summarize(b.handshake_ns);
  w.report(j, static_cast<double>(b.connected), "connection");
  std::string rss_text;
  if (before.ok && after.ok) {
    j["server_rss_before_kb"] = before.rss_kb;
    j["server_rss_after_kb"] = after.rss_kb;
    if (b.connected > 0) {
      double per = static_cast<double>(after.rss_kb - before.rss_kb) / static_cast<double>(b.connected);
      j["server_rss_per_connection_kb"] = round_to(per, 2);
      rss_text = " rss/conn=" + std::to_string(per).substr(0, 5) + "KB";
    }
  }
  j["hold_s"] = o.hold;
  emit_result(j, "connect" + tag(o) + ": " + std::to_string(b.connected) + "/" + std::to_string(o.clients)
                   + " connected in " + std::to_string(w.seconds()).substr(0, 5) + "s = "
                   + std::to_string(static_cast<long>(rate)) + " conn/s" + rss_text
                   + " generator_cpu=" + percent(w.self_fraction()));
  return all ? 0 : 1;
}

// -- scenario: echo -----------------------------------------------------------------------

struct echo_scenario : listener {
  explicit echo_scenario(bench& b) : b(b), payload(json_string(b.opt.payload)) {}

  void kick(client& c) {
    c.pending_ack = c.next_ack_id++;
    c.pending_sent_ns = now_ns();
    ++outstanding;
    c.send("42" + std::to_string(c.pending_ack) + "[\"echo\"," + payload + "]");
  }

  void on_ack(client& c, const sio_packet& p) override {
    if (!p.id || *p.id != c.pending_ack || c.pending_ack == 0) {
      ++unexpected;
      return;
    }
    auto now = now_ns();
    c.pending_ack = 0;
    --outstanding;
    if (p.data.find(payload) == std::string_view::npos)
      ++mismatched;
    if (w.contains(now) && w.begin_ns != 0) {
      ++acks;
      samples.push_back(now - c.pending_sent_ns);
    }
    if (running)
      kick(c);
  }

  bench& b;
  std::string payload; // as JSON
  window w;
  bool running = false;
  std::size_t acks = 0, unexpected = 0, mismatched = 0;
  std::size_t outstanding = 0; // echoes sent and not acked yet
  std::vector<std::int64_t> samples;
};

int run_echo(bench& b) {
  const auto& o = b.opt;
  bool all = b.connect_all();
  b.run_for(o.settle);
  echo_scenario s{b};
  b.hooks = &s;
  s.samples.reserve(1 << 20);
  s.running = true;
  auto start = now_ns();
  for (auto& c : b.clients)
    if (c->state() == client::phase::connected)
      s.kick(*c);
  auto begin = start + seconds_to_ns(o.warmup);
  b.run_until([] { return false; }, begin);
  s.w.open(o.server_pids, now_ns());
  b.run_until([] { return false; }, s.w.begin_ns + seconds_to_ns(o.duration));
  s.w.close(o.server_pids, now_ns());
  s.running = false;
  // Let the last round trips finish (not counted).
  b.run_until([&] { return s.outstanding == 0; }, now_ns() + seconds_to_ns(o.drain));
  b.hooks = nullptr;

  json j = b.header("echo");
  j["payload_bytes"] = o.payload.size();
  j["acks"] = s.acks;
  double rate = static_cast<double>(s.acks) / s.w.seconds();
  j["acks_per_s"] = round_to(rate, 1);
  auto lat = summarize(s.samples);
  j["latency"] = lat;
  j["unexpected_acks"] = s.unexpected;
  j["mismatched_acks"] = s.mismatched;
  s.w.report(j, static_cast<double>(s.acks), "ack");
  std::string cpu;
  if (j.contains("server_cpu_per_ack_us"))
    cpu = " server_cpu/ack=" + std::to_string(j["server_cpu_per_ack_us"].get<double>()).substr(0, 6) + "us";
  emit_result(j, "echo" + tag(o) + ": " + std::to_string(b.connected) + " clients "
                   + std::to_string(static_cast<long>(rate)) + " acks/s p50=" + format_us(lat, "p50_us")
                   + " p99=" + format_us(lat, "p99_us") + " max=" + format_us(lat, "max_us") + cpu
                   + " generator_cpu=" + percent(s.w.self_fraction()));
  return all && s.unexpected == 0 && s.mismatched == 0 ? 0 : 1;
}

// -- scenarios: broadcast and rooms ---------------------------------------------------------

/// One sender per group sends "t=<ns>#<seq>" messages; every member of the group
/// receives them as "chat message". Broadcast: one group of everyone, the sender
/// emits "chat message". Rooms: groups are rooms, the sender emits "to-room".
struct fanout_scenario : listener {
  struct group {
    std::string room; // empty: broadcast to everyone
    client* sender = nullptr;
    std::size_t members = 0;
  };

  fanout_scenario(bench& b, std::vector<group> groups) : b(b), groups(std::move(groups)) {}

  void send_one() {
    auto& g = groups[seq % groups.size()];
    auto now = now_ns();
    std::string text = "\"t=" + std::to_string(now) + "#" + std::to_string(seq) + "\"";
    if (g.room.empty()) {
      g.sender->send("42[\"chat message\"," + text + "]");
    } else {
      ++to_room_sent;
      g.sender->send("42" + std::to_string(g.sender->next_ack_id++) + "[\"to-room\",[\"" + g.room + "\","
                     + text + "]]");
    }
    if (measuring) {
      if (measured_first == no_seq)
        measured_first = seq;
      measured_last = seq + 1;
      expected += g.members;
    }
    ++seq;
  }

  /// Sends what is due at `rate`, then sleeps until the next one is.
  void pace() {
    if (!sending)
      return;
    auto now = now_ns();
    auto due = static_cast<std::uint64_t>(static_cast<double>(now - start_ns) * b.opt.rate / 1e9) + 1;
    std::size_t burst = 0;
    while (seq < due && burst < 1000) {
      send_one();
      ++burst;
    }
    if (seq + 1000 < due)
      behind = true;
    auto next = start_ns + static_cast<std::int64_t>(static_cast<double>(seq) * 1e9 / b.opt.rate);
    timer.expires_at(net::steady_timer::time_point{std::chrono::nanoseconds{std::max(next, now)}});
    timer.async_wait([this](const beast::error_code& ec) {
      if (!ec)
        pace();
    });
  }

  void start() {
    start_ns = now_ns();
    sending = true;
    pace();
  }

  void stop() {
    sending = false;
    timer.cancel();
  }

  void on_event(client& c, const sio_packet& p) override {
    if (p.name != "chat message")
      return;
    std::int64_t t = 0;
    std::uint64_t s = 0;
    if (!parse_marker(p.data, t, s) || s >= seq) {
      ++bad;
      return;
    }
    auto now = now_ns();
    if (c.seen.size() <= s)
      c.seen.resize(std::max<std::size_t>(s + 1, c.seen.size() * 2));
    if (c.seen[s]) {
      ++duplicates;
      return;
    }
    c.seen[s] = true;
    if (w.contains(now) && w.begin_ns != 0)
      ++in_window;
    if (s >= measured_first && s < measured_last) {
      ++delivered;
      samples.push_back(now - t);
    }
  }

  void on_ack(client&, const sio_packet& p) override {
    if (p.data == "[true]")
      ++to_room_acked;
    else
      ++to_room_refused;
  }

  static constexpr std::uint64_t no_seq = ~std::uint64_t{0};
  bench& b;
  std::vector<group> groups;
  net::steady_timer timer{b.ioc};
  window w;
  bool sending = false;
  bool measuring = false;
  bool behind = false;
  std::int64_t start_ns = 0;
  std::uint64_t seq = 0;
  std::uint64_t measured_first = no_seq, measured_last = 0;
  std::size_t expected = 0, delivered = 0, in_window = 0, duplicates = 0, bad = 0;
  std::size_t to_room_sent = 0, to_room_acked = 0, to_room_refused = 0;
  std::vector<std::int64_t> samples;
};

/// Runs one fanout measurement and prints it; true if nothing was lost.
bool measure_fanout(bench& b, fanout_scenario& s, json j, const std::string& what) {
  const auto& o = b.opt;
  for (auto& c : b.clients) {
    c->seen.clear();
    c->seen.resize(static_cast<std::size_t>(o.rate * (o.warmup + o.duration)) + 16);
  }
  b.hooks = &s;
  s.samples.reserve(1 << 20);
  s.start();
  b.run_until([] { return false; }, s.start_ns + seconds_to_ns(o.warmup));
  s.w.open(o.server_pids, now_ns());
  s.measuring = true;
  b.run_until([] { return false; }, s.w.begin_ns + seconds_to_ns(o.duration));
  s.measuring = false;
  s.w.close(o.server_pids, now_ns());
  s.stop();
  bool drained = b.run_until([&] { return s.delivered >= s.expected; }, now_ns() + seconds_to_ns(o.drain));
  b.hooks = nullptr;

  auto measured_sent = s.measured_first == fanout_scenario::no_seq ? 0 : s.measured_last - s.measured_first;
  j["rate"] = o.rate;
  j["sent"] = measured_sent;
  j["expected"] = s.expected;
  j["delivered"] = s.delivered;
  j["lost"] = s.expected - std::min(s.expected, s.delivered);
  j["duplicates"] = s.duplicates;
  j["unparsed"] = s.bad;
  j["drained"] = drained;
  j["sender_fell_behind"] = s.behind;
  double rate = static_cast<double>(s.in_window) / s.w.seconds();
  j["deliveries_in_window"] = s.in_window;
  j["deliveries_per_s"] = round_to(rate, 1);
  if (s.to_room_sent > 0) {
    j["to_room_acked"] = s.to_room_acked;
    j["to_room_refused"] = s.to_room_refused;
  }
  auto lat = summarize(s.samples);
  j["latency"] = lat;
  s.w.report(j, static_cast<double>(s.in_window), "delivery");
  std::string cpu;
  if (j.contains("server_cpu_per_delivery_us"))
    cpu = " server_cpu/delivery=" + std::to_string(j["server_cpu_per_delivery_us"].get<double>()).substr(0, 6)
          + "us";
  emit_result(j, what + tag(o) + ": " + std::to_string(static_cast<long>(rate)) + " deliveries/s, "
                   + std::to_string(s.delivered) + "/" + std::to_string(s.expected) + " delivered, "
                   + std::to_string(s.duplicates) + " dup, p50=" + format_us(lat, "p50_us")
                   + " p99=" + format_us(lat, "p99_us") + " max=" + format_us(lat, "max_us") + cpu
                   + " generator_cpu=" + percent(s.w.self_fraction()));
  return s.delivered == s.expected && s.duplicates == 0 && s.bad == 0 && s.to_room_refused == 0;
}

int run_broadcast(bench& b) {
  const auto& o = b.opt;
  bool all = b.connect_all();
  b.run_for(o.settle);
  if (b.clients.front()->state() != client::phase::connected) {
    std::cerr << "sio-bench: the sender could not connect" << std::endl;
    return 1;
  }
  fanout_scenario s{b, {{std::string{}, b.clients.front().get(), b.connected}}};
  json j = b.header("broadcast");
  bool ok = measure_fanout(b, s, j, "broadcast " + std::to_string(b.connected) + " clients");
  return all && ok ? 0 : 1;
}

/// Joins clients [0, rooms*size) to rooms "s<size>-r<k>"; true when all acked.
bool join_rooms(bench& b, std::size_t size, std::size_t rooms) {
  struct join_listener : listener {
    std::size_t acked = 0, refused = 0;
    void on_ack(client& c, const sio_packet& p) override {
      if (c.joined || !p.id || *p.id != c.pending_ack)
        return; // a late to-room ack of the previous measurement
      c.joined = true;
      c.pending_ack = 0;
      if (p.data == "[true]")
        ++acked;
      else
        ++refused;
    }
  } l;
  b.hooks = &l;
  std::size_t asked = 0;
  for (std::size_t i = 0; i < rooms * size; ++i) {
    auto& c = *b.clients[i];
    c.joined = false;
    if (c.state() != client::phase::connected)
      continue;
    ++asked;
    c.pending_ack = c.next_ack_id++;
    c.send("42" + std::to_string(c.pending_ack) + "[\"join\",\"s" + std::to_string(size) + "-r"
           + std::to_string(i / size) + "\"]");
  }
  b.run_until([&] { return l.acked + l.refused >= asked; }, now_ns() + 30 * ns_per_s);
  b.hooks = nullptr;
  return l.acked == rooms * size;
}

int run_rooms(bench& b) {
  const auto& o = b.opt;
  bool all = b.connect_all();
  b.run_for(o.settle);
  int status = all ? 0 : 1;
  for (auto size : o.room_sizes) {
    if (size > b.clients.size()) {
      std::cerr << "sio-bench: --room-size " << size << " > --clients" << std::endl;
      return 1;
    }
    std::size_t rooms = b.clients.size() / size;
    if (!join_rooms(b, size, rooms)) {
      std::cerr << "sio-bench: not every client joined its room of " << size << std::endl;
      status = 1;
    }
    b.run_for(std::min(o.settle, 0.5));
    std::vector<fanout_scenario::group> groups;
    for (std::size_t r = 0; r < rooms; ++r)
      groups.push_back({"s" + std::to_string(size) + "-r" + std::to_string(r), b.clients[r * size].get(), size});
    fanout_scenario s{b, std::move(groups)};
    json j = b.header("rooms");
    j["room_size"] = size;
    j["rooms"] = rooms;
    if (!measure_fanout(b, s, j, "rooms of " + std::to_string(size) + " (" + std::to_string(rooms) + " rooms)"))
      status = 1;
  }
  return status;
}

} // namespace

int main(int argc, char** argv) {
  auto opt = parse_options(argc, argv);
  // One descriptor per connection: take the whole allowance.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && opt.clients + 16 > lim.rlim_cur)
    std::cerr << "sio-bench: warning: " << opt.clients << " clients but only " << lim.rlim_cur
              << " file descriptors allowed" << std::endl;

  bench b{opt};
  int status = 1;
  try {
    if (opt.scenario == "connect")
      status = run_connect(b);
    else if (opt.scenario == "echo")
      status = run_echo(b);
    else if (opt.scenario == "broadcast")
      status = run_broadcast(b);
    else
      status = run_rooms(b);
  } catch (const std::exception& ex) {
    std::cerr << "sio-bench: " << ex.what() << std::endl;
    status = 1;
  }
  if (b.failed > 0 || b.connected < opt.clients)
    std::cerr << "sio-bench: " << b.connected << "/" << opt.clients << " connected; first errors:" << std::endl;
  else if (b.errors > 0)
    std::cerr << "sio-bench: " << b.errors << " errors; first:" << std::endl;
  if (b.failed > 0 || b.connected < opt.clients || b.errors > 0)
    for (auto& e : b.error_samples)
      std::cerr << "  " << e << std::endl;
  b.shutdown();
  return status;
}
