// The server side of TLS for the HTTP listener (listen_options'
// tls_certificate_file / tls_private_key_file): one OpenSSL context per
// listener, shared by every connection.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "sio/listen_options.hpp"

namespace sio::net {

/// Loads the certificate chain and key of `opts` into a TLS 1.2+ server
/// context. Throws std::runtime_error naming the file at fault.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const listen_options& opts);

} // namespace sio::net
