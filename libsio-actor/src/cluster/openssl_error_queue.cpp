// CAF 0.17.6's openssl session (libcaf_openssl) never clears OpenSSL's
// per-thread error queue before an SSL call. After one stranger's connection
// fails its TLS handshake on the multiplexer thread, the errors it left make
// SSL_get_error() report SSL_ERROR_SSL for the next healthy session on that
// thread, and CAF drops an authenticated member's link: one bad connection
// partitioned the cluster (tests/integration/hostile_cluster.test.js).
//
// OpenSSL requires the queue to be empty before an SSL I/O call. These
// definitions take the place of libssl's for every caller in the process
// (the executable's symbols come first in the dynamic lookup), clear the
// queue, and call libssl's own. Remove once the cluster has its own TLS glue.
#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

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
  return real(ssl);
}

int SSL_connect(SSL* ssl) {
  static auto real = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"

namespace sio::cluster {

/// Referenced from configure_cluster(), so a static link keeps this file.
void keep_openssl_error_queue_fix() {}

} // namespace sio::cluster
