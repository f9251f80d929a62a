#include "net/tls_context.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace sio::net {

namespace ssl = boost::asio::ssl;

namespace {

/// Why `path` could not be loaded: the system's reason if it cannot be read,
/// else OpenSSL's (Asio's own message for these is "asio.ssl error").
std::string load_failure(const std::string& path, const boost::system::error_code& ec) {
  std::string reason;
  if (::access(path.c_str(), R_OK) != 0) {
    reason = std::strerror(errno);
  } else {
    std::array<char, 256> text{};
    ::ERR_error_string_n(static_cast<unsigned long>(ec.value()), text.data(), text.size());
    reason = text.data();
  }
  ::ERR_clear_error();
  return reason;
}

} // namespace

std::shared_ptr<ssl::context> make_tls_context(const listen_options& opts) {
  if (opts.tls_certificate_file.empty() || opts.tls_private_key_file.empty())
    throw std::runtime_error("TLS needs both a certificate file and a private key file");
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and 1.3 only. TLS 1.2 ciphers: forward-secret AEAD ones, as
  // Mozilla's "intermediate" profile (TLS 1.3 suites are OpenSSL's, all AEAD).
  // No renegotiation: a client could make us redo the costly part at will.
  // No compression (CRIME).
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                   | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                   | ssl::context::no_tlsv1_1 | ssl::context::no_compression);
  auto* native = ctx->native_handle();
  ::SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  ::SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  if (::SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL") != 1)
    throw std::runtime_error("TLS: this OpenSSL has none of the TLS 1.2 ciphers we allow");
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(opts.tls_certificate_file, ec);
  if (ec)
    throw std::runtime_error("TLS certificate file '" + opts.tls_certificate_file
                             + "': " + load_failure(opts.tls_certificate_file, ec));
  ctx->use_private_key_file(opts.tls_private_key_file, ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error("TLS private key file '" + opts.tls_private_key_file
                             + "': " + load_failure(opts.tls_private_key_file, ec));
  if (::SSL_CTX_check_private_key(native) != 1) {
    ::ERR_clear_error();
    throw std::runtime_error("TLS private key '" + opts.tls_private_key_file
                             + "' does not match the certificate '"
                             + opts.tls_certificate_file + "'");
  }
  return ctx;
}

} // namespace sio::net
