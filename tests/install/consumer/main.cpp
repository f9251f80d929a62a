// Starts a real server on a free port, makes one Engine.IO handshake over TCP
// and stops it: exits 0 only if all of that worked (scripts/test-install).
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <sio/sio.hpp>

static std::string http_get(std::uint16_t port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{5, 0}; // a server that never answers fails the check, not hangs it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    auto req = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    ::send(fd, req.data(), req.size(), 0);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
      reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

int main() {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  sio::http_server http{sys, sio::listen_options{}}; // port 0: a free one
  sio::server io{sys};
  io.on_connection([](sio::socket& s) { s.emit("hello", sio::json{{"from", "consumer"}}); });
  http.serve(io);
  auto port = http.start();
  auto reply = http_get(port, "/socket.io/?EIO=4&transport=polling");
  http.stop();
  bool ok = port != 0 && reply.find("\"sid\"") != std::string::npos;
  std::printf("consumer: server on port %u, Engine.IO handshake %s\n", unsigned{port},
              ok ? "answered" : "NOT answered");
  return ok ? 0 : 1;
}
