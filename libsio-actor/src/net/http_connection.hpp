// One HTTP/1.1 connection: reads requests one at a time, hands each to the
// route that owns its path, writes the answer (possibly much later, for a
// long-polling GET), and can give its stream to a WebSocket. Over TLS it
// first completes the TLS handshake, within the listener's deadline.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/connection_stream.hpp"
#include "net/http_types.hpp"
#include "net/live_counter.hpp"
#include "sio/listen_options.hpp"

namespace sio::net {

class http_connection;
class websocket_connection;

/// Something mounted under a path prefix (an Engine.IO endpoint, static files).
class http_route {
public:
  virtual ~http_route() = default;
  /// Handles one request: answer with conn->respond(), now or later from any
  /// thread, or take the connection over with conn->upgrade_to_websocket().
  virtual void handle(const std::shared_ptr<http_connection>& conn, request req) = 0;
};

struct mounted_route {
  std::string prefix;
  std::shared_ptr<http_route> route;
};

struct http_connection_limits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1000000;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds tls_handshake_timeout{10};
};

class http_connection : public std::enable_shared_from_this<http_connection> {
public:
  /// `bytes_read`: what another process already read from the socket (a
  /// primary handing the connection over); `token` counts it at its shard.
  /// With `tls` the connection speaks TLS (and `bytes_read` must be empty).
  http_connection(tcp::socket socket, std::shared_ptr<const std::vector<mounted_route>> routes,
                  http_connection_limits limits, live_connection token = {},
                  std::string_view bytes_read = {},
                  std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

  void start();

  /// Answers the current request. Thread-safe; call it once per request.
  void respond(response res);

  using websocket_ready = std::function<void(std::shared_ptr<websocket_connection>)>;
  /// Completes a WebSocket handshake for `req` and moves the TCP stream into a
  /// websocket_connection; `ready` runs on success only.
  void upgrade_to_websocket(request req, std::size_t max_message_bytes,
                            std::size_t max_queue_bytes,
                            std::chrono::milliseconds idle_timeout, websocket_ready ready);

  const std::string& remote_address() const noexcept { return remote_address_; }
  /// Whether the connection is TLS (Node: `socket.handshake.secure`).
  bool secure() const noexcept { return secure_; }

  /// While the current request waits for its answer, watch the socket: if the
  /// client goes away first, `fn` runs (on the I/O thread). Call it from handle().
  void on_abort(std::function<void()> fn);

private:
  void tls_handshake();
  void do_read();
  void on_read(beast::error_code ec);
  void dispatch(request req);
  void write(std::shared_ptr<response> res);
  void shutdown();
  void close();
  void watch();
  void drain();

  std::shared_ptr<boost::asio::ssl::context> tls_; // kept for stream_'s life
  connection_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<const std::vector<mounted_route>> routes_;
  http_connection_limits limits_;
  std::string remote_address_;
  bool secure_ = false;
  bool tls_ready_ = false; // the TLS handshake succeeded: close with close_notify
  bool awaiting_response_ = false;
  bool watching_ = false;
  bool drain_before_close_ = false;
  std::size_t drained_bytes_ = 0;
  std::function<void()> on_abort_;
  live_connection token_;
};

/// A plain answer with the given status, content type and body.
response make_response(http::status status, std::string body,
                       std::string_view content_type = "text/plain; charset=UTF-8",
                       unsigned version = 11, bool keep_alive = true);

} // namespace sio::net
