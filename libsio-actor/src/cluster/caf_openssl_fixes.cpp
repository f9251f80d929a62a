// Two fixes for CAF 0.17.6's openssl glue (libcaf_openssl), made where CAF
// calls libssl.
//
// 1. It never clears OpenSSL's
// per-thread error queue before an SSL call. After one stranger's connection
// fails its TLS handshake on the multiplexer thread, the errors it left make
// SSL_get_error() report SSL_ERROR_SSL for the next healthy session on that
// thread, and CAF drops an authenticated member's link: one bad connection
// partitioned the cluster (tests/integration/hostile_cluster.test.js).
//
// OpenSSL requires the queue to be empty before an SSL I/O call. These
// definitions take the place of libssl's for every caller in the process
// (the executable's symbols come first in the dynamic lookup), clear the
// queue, and call libssl's own. SSL_accept also enforces a handshake deadline
// (below).
//
// 2. A server-side TLS handshake has a deadline (handshake_in_time()).
//
// Remove both once the cluster has its own TLS glue.
#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>

namespace sio::cluster {

/// A server-side TLS handshake must finish within this time. CAF's glue has
/// no deadline and retries its queued write on every "writable" event while
/// the peer stays silent: without one a silent peer held a descriptor and
/// kept the multiplexer thread busy for as long as it liked.
constexpr auto handshake_deadline = std::chrono::seconds{3};

namespace {

using clock_type = std::chrono::steady_clock;

void free_start(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<clock_type::time_point*>(ptr);
}

int start_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_start);
  return index;
}

} // namespace

/// False once the handshake of `ssl`, still waiting for the peer, is older
/// than the deadline; an error is then queued for SSL_get_error().
bool handshake_in_time(SSL* ssl, int result) {
  auto err = SSL_get_error(ssl, result);
  if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
    return true; // failed by itself
  auto now = clock_type::now();
  auto* started = static_cast<clock_type::time_point*>(SSL_get_ex_data(ssl, start_index()));
  if (!started) {
    SSL_set_ex_data(ssl, start_index(), new clock_type::time_point{now});
    return true;
  }
  if (now - *started <= handshake_deadline)
    return true;
  ERR_raise_data(ERR_LIB_SSL, SSL_R_READ_TIMEOUT_EXPIRED, "TLS handshake deadline");
  return false;
}

} // namespace sio::cluster

namespace {

template <class Fn>
Fn next_definition(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto real = next_definition<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto real = next_definition<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto real = next_definition<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  int result = real(ssl);
  if (result != 1 && !sio::cluster::handshake_in_time(ssl, result))
    return -1; // with an error queued: CAF sees SSL_ERROR_SSL and closes the connection
  return result;
}

int SSL_connect(SSL* ssl) {
  static auto real = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"

namespace sio::cluster {

/// Referenced from configure_cluster(), so a static link keeps this file.
void keep_caf_openssl_fixes() {}

} // namespace sio::cluster
