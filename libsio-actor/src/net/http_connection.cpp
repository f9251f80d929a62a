#include "net/http_connection.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "util/url.hpp"
#include "net/websocket_connection.hpp"
#include "util/debug_log.hpp"

namespace sio::net {

response make_response(http::status status, std::string body, std::string_view content_type,
                       unsigned version, bool keep_alive) {
  response res{status, version};
  res.set(http::field::content_type, content_type);
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

http_connection::http_connection(tcp::socket socket,
                                 std::shared_ptr<const std::vector<mounted_route>> routes,
                                 http_connection_limits limits, live_connection token,
                                 std::string_view bytes_read,
                                 std::shared_ptr<boost::asio::ssl::context> tls)
  : tls_(std::move(tls)),
    stream_(tls_ ? connection_stream{std::move(socket), *tls_}
                 : connection_stream{std::move(socket)}),
    routes_(std::move(routes)), limits_(limits), secure_(tls_ != nullptr),
    token_(std::move(token)) {
  if (!bytes_read.empty()) {
    auto buf = buffer_.prepare(bytes_read.size());
    asio::buffer_copy(buf, asio::buffer(bytes_read.data(), bytes_read.size()));
    buffer_.commit(bytes_read.size());
  }
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec)
    remote_address_ = ep.address().to_string();
}

void http_connection::start() {
  // Run on the connection's I/O thread from the first step on.
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->secure_)
      self->tls_handshake();
    else
      self->do_read();
  });
}

void http_connection::tls_handshake() {
  // One deadline for the whole handshake: a peer that stays silent, or sends
  // its hello a byte at a time, must not hold the descriptor.
  stream_.tcp_layer().expires_after(limits_.tls_handshake_timeout);
  stream_.tls().async_handshake(
    asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        // A peer that hangs up before its hello (a TCP health check) is
        // routine; anything else (plain HTTP, garbage, a rejected
        // certificate, the deadline) is worth one line.
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
          util::debug_log("TLS handshake with ", self->remote_address_, ": peer closed");
        else
          util::log_line("TLS handshake with ", self->remote_address_, " failed: ", ec.message());
        self->close();
        return;
      }
      self->tls_ready_ = true;
      self->do_read();
    });
}

void http_connection::do_read() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser_->body_limit(limits_.max_body_bytes);
  stream_.tcp_layer().expires_after(limits_.idle_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->on_read(ec);
                   });
}

namespace {

/// One Host header (HTTP/1.1 needs one, none may have two) and no
/// Transfer-Encoding other than chunked, whose body Beast would not read.
bool well_framed(const http::request<http::string_body>& req) {
  auto hosts = req.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && req.version() >= 11))
    return false;
  return req.count(http::field::transfer_encoding) == 0 || req.chunked();
}

} // namespace

void http_connection::on_read(beast::error_code ec) {
  if (ec == http::error::body_limit) {
    // Refuse and drop the connection: the rest of the body is never read.
    auto res = make_response(http::status::payload_too_large, "", "text/html", 11, false);
    // Read and drop the rest of the body before closing: closing a socket with
    // unread data sends a reset, and the client would never see the 413.
    drain_before_close_ = true;
    write(std::make_shared<response>(std::move(res)));
    return;
  }
  if (ec == http::error::header_limit) {
    auto res = make_response(http::status::request_header_fields_too_large, "", "text/html",
                             11, false);
    write(std::make_shared<response>(std::move(res)));
    return;
  }
  if (ec) {
    shutdown();
    return;
  }
  if (!well_framed(parser_->get())) {
    // RFC 9112 3.2 and 6.1, as Node answers: where this request ends is unsure
    // (a smuggled second request may follow), so answer 400 and close.
    auto res = make_response(http::status::bad_request, "", "text/html", 11, false);
    drain_before_close_ = true;
    write(std::make_shared<response>(std::move(res)));
    return;
  }
  // The route may answer much later (long-polling): no read timeout meanwhile.
  stream_.tcp_layer().expires_never();
  awaiting_response_ = true;
  dispatch(parser_->release());
}

void http_connection::dispatch(request req) {
  auto path = util::parse_target(req.target()).path;
  for (auto& m : *routes_) {
    bool matches = path.compare(0, m.prefix.size(), m.prefix) == 0
                   || path + "/" == m.prefix; // "/socket.io" matches "/socket.io/"
    if (matches) {
      m.route->handle(shared_from_this(), std::move(req));
      return;
    }
  }
  respond(make_response(http::status::not_found, "Not Found", "text/plain; charset=UTF-8",
                        req.version(), req.keep_alive()));
}

void http_connection::respond(response res) {
  asio::post(stream_.get_executor(),
             [self = shared_from_this(), res = std::make_shared<response>(std::move(res))] {
               self->write(res);
             });
}

void http_connection::write(std::shared_ptr<response> res) {
  http::async_write(stream_, *res,
                    [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                      self->awaiting_response_ = false;
                      self->on_abort_ = nullptr;
                      if (ec || res->need_eof())
                        self->shutdown();
                      else if (self->watching_)
                        self->stream_.socket().cancel(); // watch() then reads on
                      else
                        self->do_read();
                    });
}

void http_connection::drain() {
  // Bounded in time (the stream's expiry) and in bytes.
  constexpr std::size_t max_drained = 64 * 1024 * 1024;
  buffer_.consume(buffer_.size());
  stream_.async_read_some(buffer_.prepare(64 * 1024),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->drained_bytes_ += n;
                            if (ec || self->drained_bytes_ > max_drained) {
                              beast::error_code ignored;
                              self->stream_.socket().close(ignored);
                              return;
                            }
                            self->drain();
                          });
}

void http_connection::on_abort(std::function<void()> fn) {
  on_abort_ = std::move(fn);
  if (awaiting_response_ && !watching_)
    watch();
}

void http_connection::watch() {
  watching_ = true;
  stream_.async_read_some(
    buffer_.prepare(1024), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->watching_ = false;
      if (!ec) {
        // A pipelined request: keep its bytes for the next read.
        self->buffer_.commit(n);
        if (!self->awaiting_response_)
          self->do_read();
        else if (self->buffer_.size() < self->limits_.max_header_bytes)
          self->watch();
        return;
      }
      if (ec == asio::error::operation_aborted && !self->awaiting_response_) {
        self->do_read();
        return;
      }
      if (self->awaiting_response_ && self->on_abort_)
        std::exchange(self->on_abort_, nullptr)();
      self->shutdown();
    });
}

void http_connection::shutdown() {
  beast::error_code ec;
  if (drain_before_close_) {
    drain_before_close_ = false;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.tcp_layer().expires_after(std::chrono::seconds{5});
    drain();
    return;
  }
  if (tls_ready_ && !watching_) {
    // TLS says "no more" with close_notify, so that the client can tell a
    // finished answer from a cut one. Asio then waits for the client's own
    // close_notify: bounded, as a client may never send it.
    tls_ready_ = false;
    stream_.tcp_layer().expires_after(std::chrono::seconds{5});
    stream_.tls().async_shutdown([self = shared_from_this()](beast::error_code) { self->close(); });
    return;
  }
  close();
}

void http_connection::close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

void http_connection::upgrade_to_websocket(request req, std::size_t max_message_bytes,
                                           std::size_t max_queue_bytes,
                                           std::chrono::milliseconds idle_timeout,
                                           websocket_ready ready) {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this(), req = std::move(req),
                                          max_message_bytes, max_queue_bytes, idle_timeout,
                                          ready = std::move(ready)]() mutable {
    self->stream_.tcp_layer().expires_never();
    std::shared_ptr<websocket_connection> ws;
    if (self->secure_)
      ws = std::make_shared<websocket_connection>(std::move(self->stream_.tls()),
                                                  max_message_bytes, max_queue_bytes,
                                                  idle_timeout, std::move(self->token_));
    else
      ws = std::make_shared<websocket_connection>(std::move(self->stream_.plain()),
                                                  max_message_bytes, max_queue_bytes,
                                                  idle_timeout, std::move(self->token_));
    ws->accept(std::move(req), std::move(ready));
  });
}

} // namespace sio::net
