// sio-floor-server: the kernel floor of the scripts/bench scenarios.
//
// What the benchmark's socket system calls cost with no framework around them:
// one thread, one epoll set (level-triggered), non-blocking sockets with
// TCP_NODELAY, one recv per readable socket (64 KiB, as sio-actor reads) and
// one sendmsg (header + payload) per outgoing WebSocket frame, a broadcast
// encoded once. It speaks just enough for tests/bench/sio_bench.cpp to drive it
// like apps/chat/main.cpp:
//   WebSocket upgrade on /socket.io/?EIO=4&transport=websocket, Engine.IO OPEN,
//   Socket.IO CONNECT `40` -> `40{"sid":...}`, then in namespace "/":
//   echo          42<id>["echo",...] -> 43<id>[...]
//   chat message  42["chat message",text] -> everyone (sender included):
//                 42["chat message","port:<port> user:<id> msg:<text>"] (no ack, as sio-chat)
//   join          42<id>["join",room] -> 43<id>[true|false]
//   to-room       42<id>["to-room",[room,msg]] or (room,msg) -> room members:
//                 42["chat message",msg]; 43<id>[true|false]
//
// It is NOT a Socket.IO server: no HTTP long-polling, no heartbeat (it never
// pings, it ignores pongs), no binary attachments, no other namespaces, no
// welcome notice or roster, no flood or length limits beyond sanity checks
// (frames up to maxPayload, bounded HTTP head and write backlog). JSON is only
// split into values, never decoded: room names are compared as written. A
// client that sends anything malformed or unexpected is closed.
//
//   sio-floor-server [--port 3000]      (listens on 127.0.0.1; SIGTERM/SIGINT stop it)
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

using sv = std::string_view;

constexpr std::size_t read_chunk = 64 * 1024;          // bytes per recv
constexpr std::size_t max_payload = 1000000;           // announced as maxPayload
constexpr std::size_t max_http_head = 8192;            // the upgrade request
constexpr std::size_t max_backlog = 16 * 1024 * 1024;  // unsent bytes per client

// -- SHA-1 and base64, for Sec-WebSocket-Accept ------------------------------------

std::array<std::uint8_t, 20> sha1(sv in) {
  std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string m{in};
  auto bits = static_cast<std::uint64_t>(in.size()) * 8;
  m += '\x80';
  while (m.size() % 64 != 56)
    m += '\0';
  for (int i = 7; i >= 0; --i)
    m += static_cast<char>((bits >> (8 * i)) & 0xff);
  auto rol = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (std::size_t off = 0; off < m.size(); off += 64) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      auto b = [&](int k) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(m[off + 4 * i + k]));
      };
      w[i] = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
    }
    for (int i = 16; i < 80; ++i)
      w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      std::uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  std::array<std::uint8_t, 20> out{};
  for (int i = 0; i < 20; ++i)
    out[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
  return out;
}

std::string base64(const std::uint8_t* p, std::size_t n) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < n; i += 3) {
    std::uint32_t v = std::uint32_t{p[i]} << 16;
    if (i + 1 < n)
      v |= std::uint32_t{p[i + 1]} << 8;
    if (i + 2 < n)
      v |= p[i + 2];
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < n ? abc[(v >> 6) & 63] : '=';
    out += i + 2 < n ? abc[v & 63] : '=';
  }
  return out;
}

// -- JSON: split into values as written, never decoded -------------------------------

std::size_t skip_ws(sv s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    ++i;
  return i;
}

/// The index just past the JSON value at s[i], or npos if there is none.
std::size_t skip_value(sv s, std::size_t i, int depth = 0) {
  constexpr auto bad = sv::npos;
  if (i >= s.size() || depth > 32)
    return bad;
  char c = s[i];
  if (c == '"') {
    for (++i; i < s.size(); ++i) {
      if (s[i] == '"')
        return i + 1;
      if (s[i] == '\\')
        ++i;
      else if (static_cast<unsigned char>(s[i]) < 0x20)
        return bad;
    }
    return bad;
  }
  if (c == '[' || c == '{') {
    char close = c == '[' ? ']' : '}';
    i = skip_ws(s, i + 1);
    if (i < s.size() && s[i] == close)
      return i + 1;
    while (true) {
      if (c == '{') { // "key":
        if (i >= s.size() || s[i] != '"' || (i = skip_value(s, i, depth + 1)) == bad)
          return bad;
        i = skip_ws(s, i);
        if (i >= s.size() || s[i] != ':')
          return bad;
        i = skip_ws(s, i + 1);
      }
      if ((i = skip_value(s, i, depth + 1)) == bad)
        return bad;
      i = skip_ws(s, i);
      if (i >= s.size())
        return bad;
      if (s[i] == close)
        return i + 1;
      if (s[i] != ',')
        return bad;
      i = skip_ws(s, i + 1);
    }
  }
  for (sv word : {sv{"true"}, sv{"false"}, sv{"null"}})
    if (s.substr(i, word.size()) == word)
      return i + word.size();
  auto numeric = [](char ch) {
    return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E';
  };
  std::size_t start = i; // a number, loosely
  while (i < s.size() && numeric(s[i]))
    ++i;
  return i > start ? i : bad;
}

/// The elements of the JSON array that is the whole of `s`, as written.
bool split_array(sv s, std::vector<sv>& out) {
  out.clear();
  std::size_t i = skip_ws(s, 0);
  if (i >= s.size() || s[i] != '[' || skip_ws(s, skip_value(s, i)) != s.size())
    return false; // (skip_value returns npos, and skip_ws keeps it, on a malformed array)
  i = skip_ws(s, i + 1);
  while (s[i] != ']') {
    auto end = skip_value(s, i);
    out.push_back(s.substr(i, end - i));
    i = skip_ws(s, end);
    if (s[i] == ',')
      i = skip_ws(s, i + 1);
  }
  return true;
}

bool is_string(sv v) {
  return !v.empty() && v[0] == '"';
}

// -- the server --------------------------------------------------------------------

struct client {
  enum class phase { http, websocket, connected } state = phase::http;
  int fd = -1;
  std::string in;  // received, not parsed yet (an incomplete frame)
  std::string out; // encoded, not taken by the kernel yet
  std::string id;  // the Socket.IO socket id
  std::vector<std::string> rooms;
  std::size_t everyone_index = 0;
  bool writable_wanted = false;
  bool dead = false;
};

class floor_server {
public:
  floor_server(int epfd, int listen_fd, int signal_fd, std::uint16_t port)
    : ep_(epfd), listen_fd_(listen_fd), signal_fd_(signal_fd), port_(port), rng_(std::random_device{}()) {}

  void run() {
    std::array<epoll_event, 256> events;
    while (true) {
      int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        std::perror("sio-floor-server: epoll_wait");
        return;
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == signal_fd_)
          return shutdown();
        if (fd == listen_fd_) {
          accept_all();
          continue;
        }
        client* c = static_cast<std::size_t>(fd) < by_fd_.size() ? by_fd_[fd].get() : nullptr;
        if (!c || c->dead)
          continue;
        if (events[i].events & EPOLLOUT)
          on_writable(*c);
        if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->dead)
          on_readable(*c);
      }
      bury();
    }
  }

private:
  // -- connections -----------------------------------------------------------------

  void accept_all() {
    for (int k = 0; k < 256; ++k) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
          std::perror("sio-floor-server: accept");
        return;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (static_cast<std::size_t>(fd) >= by_fd_.size())
        by_fd_.resize(static_cast<std::size_t>(fd) * 2 + 16);
      auto c = std::make_unique<client>();
      c->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        continue;
      }
      by_fd_[fd] = std::move(c);
    }
  }

  /// Marks `c` for closing; it is closed after the current batch of events.
  void kill(client& c) {
    if (!c.dead) {
      c.dead = true;
      dying_.push_back(&c);
    }
  }

  void bury() {
    for (client* c : dying_) {
      if (c->state == client::phase::connected) {
        auto last = everyone_.back();
        everyone_[c->everyone_index] = last;
        last->everyone_index = c->everyone_index;
        everyone_.pop_back();
      }
      for (auto& name : c->rooms) {
        auto r = rooms_.find(name);
        auto& members = r->second;
        *std::find(members.begin(), members.end(), c) = members.back();
        members.pop_back();
        if (members.empty())
          rooms_.erase(r);
      }
      int fd = c->fd;
      close(fd);
      by_fd_[fd].reset();
    }
    dying_.clear();
  }

  void shutdown() {
    for (auto& c : by_fd_)
      if (c)
        close(c->fd);
    by_fd_.clear();
  }

  std::string random_id() { // 15 random bytes in base64url: 20 characters, as sio-actor's ids
    std::array<std::uint8_t, 15> bytes{};
    for (std::size_t i = 0; i < bytes.size(); i += 5) {
      auto r = rng_();
      for (std::size_t j = 0; j < 5; ++j)
        bytes[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
    }
    auto id = base64(bytes.data(), bytes.size());
    std::replace(id.begin(), id.end(), '+', '-');
    std::replace(id.begin(), id.end(), '/', '_');
    return id;
  }

  // -- writing ---------------------------------------------------------------------

  void want_writable(client& c, bool on) {
    if (c.writable_wanted == on)
      return;
    c.writable_wanted = on;
    epoll_event ev{};
    ev.events = on ? EPOLLIN | EPOLLOUT : EPOLLIN;
    ev.data.fd = c.fd;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  /// One sendmsg of `a` then `b`; what the kernel does not take waits in c.out.
  void send(client& c, sv a, sv b = {}) {
    if (c.dead)
      return;
    if (!c.out.empty()) { // keep the order: behind what is already waiting
      c.out.append(a).append(b);
      if (c.out.size() > max_backlog)
        kill(c);
      return;
    }
    iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = b.empty() ? 1 : 2;
    ssize_t n;
    do
      n = sendmsg(c.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      return kill(c);
    auto sent = static_cast<std::size_t>(std::max<ssize_t>(n, 0));
    if (sent == a.size() + b.size())
      return;
    if (sent < a.size())
      c.out.append(a.substr(sent)).append(b);
    else
      c.out.append(b.substr(sent - a.size()));
    want_writable(c, true);
  }

  void on_writable(client& c) {
    if (c.out.empty())
      return want_writable(c, false);
    iovec iov{c.out.data(), c.out.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n = sendmsg(c.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return kill(c);
    c.out.erase(0, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (c.out.empty())
      want_writable(c, false);
  }

  /// A server frame header (FIN, unmasked) in `buf`.
  static sv frame_header(char (&buf)[10], std::uint8_t opcode, std::size_t len) {
    buf[0] = static_cast<char>(0x80 | opcode);
    if (len < 126) {
      buf[1] = static_cast<char>(len);
      return {buf, 2};
    }
    if (len <= 0xffff) {
      buf[1] = 126;
      buf[2] = static_cast<char>(len >> 8);
      buf[3] = static_cast<char>(len & 0xff);
      return {buf, 4};
    }
    buf[1] = 127;
    for (int i = 0; i < 8; ++i)
      buf[2 + i] = static_cast<char>(len >> (56 - 8 * i));
    return {buf, 10};
  }

  void send_text(client& c, sv payload) {
    char buf[10];
    send(c, frame_header(buf, 1, payload.size()), payload);
  }

  /// `payload_ = 43<id>[<args>]`, sent to c.
  void ack(client& c, sv id, sv args) {
    payload_.assign("43").append(id).append("[").append(args).append("]");
    send_text(c, payload_);
  }

  // -- reading ---------------------------------------------------------------------

  void on_readable(client& c) {
    ssize_t n;
    do
      n = recv(c.fd, chunk_.data(), chunk_.size(), MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n <= 0)
      return kill(c); // EOF or reset
    auto size = static_cast<std::size_t>(n);
    if (c.in.empty()) { // the usual case: whole frames, parsed where they were read
      auto used = consume(c, chunk_.data(), size);
      if (!c.dead && used < size)
        c.in.assign(chunk_.data() + used, size - used);
    } else {
      c.in.append(chunk_.data(), size);
      auto used = consume(c, c.in.data(), c.in.size());
      if (!c.dead)
        c.in.erase(0, used);
    }
  }

  /// Handles the complete frames (or upgrade request) in data; returns the bytes used.
  std::size_t consume(client& c, char* data, std::size_t size) {
    std::size_t pos = 0;
    if (c.state == client::phase::http) {
      pos = upgrade(c, sv{data, size});
      if (pos == 0)
        return 0;
    }
    while (!c.dead && size - pos >= 2) {
      auto b0 = static_cast<unsigned char>(data[pos]);
      auto b1 = static_cast<unsigned char>(data[pos + 1]);
      if ((b0 & 0xF0) != 0x80 || (b1 & 0x80) == 0) { // FIN, no RSV bits, masked
        kill(c);
        break;
      }
      std::size_t len = b1 & 0x7F;
      std::size_t head = 2 + (len == 126 ? 2 : len == 127 ? 8 : 0) + 4;
      if (size - pos < head)
        break;
      if (len >= 126) {
        std::size_t bytes = len == 126 ? 2 : 8;
        len = 0;
        for (std::size_t i = 0; i < bytes; ++i)
          len = (len << 8) | static_cast<unsigned char>(data[pos + 2 + i]);
      }
      if (len > max_payload) {
        kill(c);
        break;
      }
      if (size - pos - head < len)
        break;
      char* mask = data + pos + head - 4;
      char* payload = data + pos + head;
      for (std::size_t i = 0; i < len; ++i)
        payload[i] ^= mask[i & 3];
      pos += head + len;
      on_frame(c, b0 & 0x0F, sv{payload, len});
    }
    return pos;
  }

  /// The HTTP upgrade request: returns the bytes it took, 0 if incomplete or bad.
  std::size_t upgrade(client& c, sv data) {
    auto end = data.find("\r\n\r\n");
    if (end == sv::npos) {
      if (data.size() > max_http_head)
        kill(c);
      return 0;
    }
    auto request = data.substr(0, end + 2);
    auto target = request.substr(0, request.find(' ', 4));
    std::string head{request}; // lower case, to find the header
    std::transform(head.begin(), head.end(), head.begin(), [](char ch) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    });
    auto key_at = head.find("\r\nsec-websocket-key:");
    if (target.substr(0, 16) != "GET /socket.io/?" || target.find("EIO=4") == sv::npos
        || target.find("transport=websocket") == sv::npos || key_at == std::string::npos) {
      kill(c);
      return 0;
    }
    auto key = data.substr(key_at + 20, head.find("\r\n", key_at + 2) - key_at - 20);
    while (!key.empty() && (key.front() == ' ' || key.front() == '\t'))
      key.remove_prefix(1);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t'))
      key.remove_suffix(1);
    auto digest = sha1(std::string{key} + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    std::string reply = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: "
                        + base64(digest.data(), digest.size()) + "\r\n\r\n";
    send(c, reply);
    c.state = client::phase::websocket;
    send_text(c, "0{\"sid\":\"" + random_id()
                   + "\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":"
                   + std::to_string(max_payload) + "}");
    return end + 4;
  }

  void on_frame(client& c, int opcode, sv payload) {
    if (opcode == 0x9) { // ping
      char buf[10];
      return send(c, frame_header(buf, 0xA, payload.size()), payload);
    }
    if (opcode == 0xA) // pong
      return;
    if (opcode != 0x1 || payload.empty()) // close, binary, continuation, reserved, empty
      return kill(c);
    if (payload[0] == '3') // Engine.IO PONG (we never ping; ignored anyway)
      return;
    if (payload[0] != '4') // Engine.IO MESSAGE only: CLOSE and the rest end the client
      return kill(c);
    on_packet(c, payload.substr(1));
  }

  /// A Socket.IO packet in namespace "/".
  void on_packet(client& c, sv p) {
    if (p.empty())
      return kill(c);
    if (p[0] == '0') { // CONNECT, with an optional auth object
      auto auth = p.substr(1);
      bool auth_ok = auth.empty() || (auth[0] == '{' && skip_value(auth, 0) == auth.size());
      if (c.state != client::phase::websocket || !auth_ok)
        return kill(c);
      c.state = client::phase::connected;
      c.id = random_id();
      c.everyone_index = everyone_.size();
      everyone_.push_back(&c);
      return send_text(c, "40{\"sid\":\"" + c.id + "\"}");
    }
    if (c.state != client::phase::connected)
      return kill(c);
    if (p[0] == '3') // ACK: we never ask for one
      return;
    if (p[0] != '2') // DISCONNECT, binary packets, namespaces, garbage
      return kill(c);
    std::size_t i = 1;
    while (i < p.size() && i < 17 && p[i] >= '0' && p[i] <= '9')
      ++i;
    auto id = p.substr(1, i - 1); // the ack id, as written; empty: none
    if (!split_array(p.substr(i), args_) || args_.empty() || !is_string(args_[0]))
      return kill(c);
    auto name = args_[0];
    auto from = [&](std::size_t k) { // elements k.. as written, commas included
      if (args_.size() <= k)
        return sv{};
      auto begin = args_[k].data();
      return sv{begin, static_cast<std::size_t>(args_.back().data() + args_.back().size() - begin)};
    };

    if (name == "\"echo\"") {
      if (!id.empty())
        ack(c, id, from(1));
    } else if (name == "\"chat message\"") {
      if (args_.size() < 2 || !is_string(args_[1]))
        return; // sio-chat answers with an error notice; nothing here
      auto text = args_[1].substr(1, args_[1].size() - 2); // still escaped: fine inside a JSON string
      payload_.assign("42[\"chat message\",\"port:")
        .append(std::to_string(port_))
        .append(" user:")
        .append(c.id)
        .append(" msg:")
        .append(text)
        .append("\"]");
      char buf[10];
      auto header = frame_header(buf, 1, payload_.size());
      for (client* to : everyone_)
        send(*to, header, payload_);
    } else if (name == "\"join\"") {
      bool ok = args_.size() >= 2 && is_string(args_[1]) && args_[1].size() > 2;
      if (ok && std::find(c.rooms.begin(), c.rooms.end(), args_[1]) == c.rooms.end()) {
        c.rooms.emplace_back(args_[1]);
        rooms_[c.rooms.back()].push_back(&c);
      }
      if (!id.empty())
        ack(c, id, ok ? "true" : "false");
    } else if (name == "\"to-room\"") {
      // Either to-room(room, msg) or to-room([room, msg]).
      auto& a = room_args_;
      a.assign(args_.begin() + 1, args_.end());
      if (a.size() == 1 && a[0][0] == '[')
        split_array(a[0], a);
      bool ok = a.size() >= 2 && is_string(a[0]);
      if (ok) {
        auto r = rooms_.find(std::string{a[0]});
        if (r != rooms_.end()) {
          payload_.assign("42[\"chat message\",").append(a[1]).append("]");
          char buf[10];
          auto header = frame_header(buf, 1, payload_.size());
          for (client* to : r->second)
            send(*to, header, payload_);
        }
      }
      if (!id.empty())
        ack(c, id, ok ? "true" : "false");
    }
    // Other events: ignored, as sio-chat ignores events it has no handler for.
  }

  int ep_, listen_fd_, signal_fd_;
  std::uint16_t port_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<client>> by_fd_;
  std::vector<client*> everyone_; // connected to namespace "/"
  std::unordered_map<std::string, std::vector<client*>> rooms_; // by the name's JSON text
  std::vector<client*> dying_;
  std::array<char, read_chunk> chunk_{};
  std::string payload_;   // the packet being sent, reused
  std::vector<sv> args_;  // the event's elements, reused
  std::vector<sv> room_args_;
};

} // namespace

int main(int argc, char** argv) {
  long port = 3000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    char* end = nullptr;
    if (a == "--port" && i + 1 < argc)
      port = std::strtol(argv[++i], &end, 10);
    else if (a.rfind("--port=", 0) == 0)
      port = std::strtol(argv[i] + 7, &end, 10);
    if (!end || *end != '\0' || port < 0 || port > 65535) {
      std::cerr << "usage: sio-floor-server [--port N]   (listens on 127.0.0.1)" << std::endl;
      return 2;
    }
  }

  // One descriptor per connection: take the whole allowance.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }

  // SIGTERM and SIGINT arrive as a readable descriptor in the epoll set.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  int signal_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);

  int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t addr_len = sizeof addr;
  if (signal_fd < 0 || listen_fd < 0 || bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0
      || listen(listen_fd, SOMAXCONN) < 0
      || getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) < 0) {
    std::cerr << "sio-floor-server: cannot listen on 127.0.0.1:" << port << ": " << std::strerror(errno)
              << std::endl;
    return 1;
  }
  auto bound = ntohs(addr.sin_port);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int fd : {listen_fd, signal_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  std::cout << "listening on 127.0.0.1:" << bound << std::endl;
  floor_server{ep, listen_fd, signal_fd, bound}.run();
  close(ep);
  close(listen_fd);
  close(signal_fd);
  return 0;
}
