// What one client connection reads and writes: its TCP stream, or TLS over it
// (listen_options' certificate). Beast's HTTP algorithms take either, as they
// take any AsyncStream; timeouts and the descriptor are always the TCP layer's.
#pragma once

#include <utility>
#include <variant>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "net/http_types.hpp"

namespace sio::net {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

class connection_stream {
public:
  using executor_type = beast::tcp_stream::executor_type;

  explicit connection_stream(tcp::socket socket) : stream_(beast::tcp_stream{std::move(socket)}) {
  }
  /// TLS with `ctx`: nothing is readable before handshake() succeeds.
  connection_stream(tcp::socket socket, boost::asio::ssl::context& ctx)
    : stream_(std::in_place_type<tls_stream>, beast::tcp_stream{std::move(socket)}, ctx) {
  }

  bool is_tls() const noexcept { return std::holds_alternative<tls_stream>(stream_); }
  tls_stream& tls() { return std::get<tls_stream>(stream_); }
  beast::tcp_stream& plain() { return std::get<beast::tcp_stream>(stream_); }
  /// The TCP layer: its timeout and its socket.
  beast::tcp_stream& tcp_layer() {
    return is_tls() ? tls().next_layer() : plain();
  }
  tcp::socket& socket() { return tcp_layer().socket(); }

  executor_type get_executor() { return tcp_layer().get_executor(); }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (is_tls())
      tls().async_read_some(buffers, std::forward<Handler>(handler));
    else
      plain().async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (is_tls())
      tls().async_write_some(buffers, std::forward<Handler>(handler));
    else
      plain().async_write_some(buffers, std::forward<Handler>(handler));
  }

private:
  std::variant<beast::tcp_stream, tls_stream> stream_;
};

} // namespace sio::net
