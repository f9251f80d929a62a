// Cluster links are mutual TLS (docs/security.md): a peer without a certificate
// from the cluster's CA, plain BASP and raw bytes never reach CAF's BASP parser,
// and the node keeps serving its members. Everything over loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "cluster/credentials.hpp"
#include "cluster_test_support.hpp"

namespace sio_cluster_test {
namespace {

/// An actor that answers every int with itself plus `offset`: the published
/// "member". (It takes an argument: CAF 0.17 spawns an argument-less function
/// through a null tuple pointer, which UBSan reports.)
caf::behavior echo_ints(int offset) {
  return {[offset](int x) { return x + offset; }};
}

/// Whether `member` answers a request from `sys` within the limit.
bool answers(caf::actor_system& sys, const caf::actor& member) {
  if (!member)
    return false;
  bool ok = false;
  caf::scoped_actor self{sys};
  self->request(member, limit, 42).receive([&](int x) { ok = x == 42; }, [](caf::error&) {});
  return ok;
}

/// Writes `bytes` to 127.0.0.1:`port` on a plain TCP connection, then waits
/// (bounded) for the node to close it.
void send_raw(std::uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  CHECK(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[256];
  while (::recv(fd, buf, sizeof(buf), 0) > 0) {
    // A TLS alert, then the close.
  }
  ::close(fd);
}

/// A CAF 0.17 BASP header (32 bytes): operation, 3 padding bytes, flags,
/// payload length, operation data, source and destination actor ids.
std::string basp_header(std::uint8_t operation, std::uint32_t payload_len) {
  std::string h(32, '\0');
  h[0] = static_cast<char>(operation);
  std::uint32_t len = htonl(payload_len);
  std::memcpy(&h[8], &len, sizeof(len));
  return h;
}

} // namespace

TEST_CASE("cluster tls: credentials are checked at start-up with a clear reason",
          "[cluster][tls]") {
  caf::actor_system_config none;
  auto missing = cl::credentials_problem(none);
  REQUIRE(missing);
  CHECK(missing->find("--openssl.certificate") != std::string::npos);
  CHECK(missing->find("--cluster-insecure") != std::string::npos);

  node_config good;
  CHECK_FALSE(cl::credentials_problem(good));

  // A certificate from one run, the CA of another: refused before any link.
  caf::actor_system_config foreign;
  sio::use_run_credentials(foreign);
  foreign.openssl_cafile = good.openssl_cafile;
  auto problem = cl::credentials_problem(foreign);
  REQUIRE(problem);
  CHECK(problem->find("not accepted by the cluster CA") != std::string::npos);

  good.openssl_key = "/nonexistent/key.pem";
  auto no_key = cl::credentials_problem(good);
  REQUIRE(no_key);
  CHECK(no_key->find("cannot load the private key") != std::string::npos);
}

TEST_CASE("cluster tls: only a peer with the cluster's certificate gets through",
          "[cluster][tls]") {
  node_config server_cfg;
  caf::actor_system server{server_cfg};
  auto member = server.spawn(echo_ints, 0);
  auto port = publish_loopback(server, member);
  REQUIRE(port != 0);

  SECTION("a member of the cluster") {
    node_config cfg;
    caf::actor_system peer{cfg};
    CHECK(answers(peer, connect_remote(peer, port)));
  }
  SECTION("a foreign node: TLS with its own CA, or plain CAF BASP") {
    node_config foreign_cfg;
    sio::use_run_credentials(foreign_cfg); // a certificate the cluster's CA did not sign
    caf::actor_system foreign{foreign_cfg};
    CHECK_FALSE(connect_remote(foreign, port));
    node_config plain_cfg{false}; // no openssl module: BASP in the clear
    caf::actor_system plain{plain_cfg};
    CHECK_FALSE(connect_remote(plain, port));
    // The node still serves its members.
    node_config cfg;
    caf::actor_system peer{cfg};
    CHECK(answers(peer, connect_remote(peer, port)));
  }
  SECTION("raw bytes: the 64 bytes that crash plain BASP, a 4 GiB header, garbage") {
    send_raw(port, basp_header(1, 0) + basp_header(2, 0));
    send_raw(port, basp_header(1, 0xFFFFFFFFu));
    send_raw(port, std::string(4096, '\x16'));
    node_config cfg;
    caf::actor_system peer{cfg};
    CHECK(answers(peer, connect_remote(peer, port)));
  }
  server.middleman().unpublish(member, port);
  caf::anon_send_exit(member, caf::exit_reason::user_shutdown);
}

} // namespace sio_cluster_test
