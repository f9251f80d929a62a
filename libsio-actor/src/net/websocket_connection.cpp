#include "net/websocket_connection.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <caf/send.hpp>

#include "engineio/atoms.hpp"
#include "util/debug_log.hpp"

namespace sio::net {

namespace websocket = beast::websocket;

websocket_connection::websocket_connection(beast::tcp_stream stream,
                                           std::size_t max_message_bytes,
                                           std::size_t max_queue_bytes,
                                           std::chrono::milliseconds idle_timeout,
                                           live_connection token)
  : ws_(std::move(stream)), id_(engineio::new_channel_id()), max_queue_bytes_(max_queue_bytes),
    token_(std::move(token)) {
  ws_.read_message_max(max_message_bytes);
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  // A peer silent for longer than the heartbeat allows is dead: free the socket
  // even if the session actor never gets to close it.
  timeouts.idle_timeout = idle_timeout;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(http::field::server, "sio-actor");
  }));
}

void websocket_connection::accept(
  request req, std::function<void(std::shared_ptr<websocket_connection>)> ready) {
  auto self = shared_from_this();
  ws_.async_accept(req, [self, ready = std::move(ready)](beast::error_code ec) {
    if (!ec)
      ready(self);
  });
}

void websocket_connection::attach(caf::actor session) {
  asio::dispatch(ws_.get_executor(), [self = shared_from_this(), session = std::move(session)] {
    if (self->session_ || self->reported_)
      return; // already reading (attach is idempotent)
    self->session_ = session;
    self->do_read();
  });
}

void websocket_connection::do_read() {
  ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) {
      bool clean = ec == websocket::error::closed || ec == asio::error::eof
                   || ec == asio::error::connection_reset || ec == asio::error::operation_aborted;
      self->report_closed(clean ? "transport close" : "transport error");
      if (ec == websocket::error::message_too_big)
        self->hard_close("message too big");
      return;
    }
    if (!self->session_)
      return; // closed meanwhile
    auto data = beast::buffers_to_string(self->read_buffer_.data());
    self->read_buffer_.consume(self->read_buffer_.size());
    caf::anon_send(self->session_, engineio::ws_frame_atom::value, self->id_, std::move(data),
                   !self->ws_.got_text());
    self->do_read();
  });
}

void websocket_connection::send(std::vector<engineio::packet_ptr> packets, bool is_volatile) {
  asio::dispatch(ws_.get_executor(), [self = shared_from_this(), packets = std::move(packets),
                                      is_volatile]() mutable {
    if (self->closing_ || self->close_requested_)
      return;
    // Volatile packets are for clients that can take them now, never queued.
    if (is_volatile && (self->writing_ || !self->queue_.empty()))
      return;
    for (auto& p : packets) {
      self->queued_bytes_ += p->wire().size();
      self->queue_.push_back(std::move(p));
    }
    if (self->queued_bytes_ > self->max_queue_bytes_) {
      self->hard_close("slow consumer: write queue limit exceeded");
      return;
    }
    if (!self->writing_)
      self->do_write();
  });
}

void websocket_connection::do_write() {
  if (queue_.empty()) {
    writing_ = false;
    if (close_requested_)
      do_close();
    return;
  }
  writing_ = true;
  const auto& p = queue_.front();
  ws_.binary(p->is_binary());
  ws_.async_write(asio::buffer(p->wire()),
                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                    // The packet stays alive until here: the write referenced its bytes.
                    self->queued_bytes_ -= self->queue_.front()->wire().size();
                    self->queue_.pop_front();
                    if (ec || self->closing_) {
                      self->writing_ = false;
                      self->queue_.clear();
                      self->queued_bytes_ = 0;
                      if (ec)
                        self->hard_close("write failed");
                      return;
                    }
                    self->do_write();
                  });
}

void websocket_connection::close() {
  asio::dispatch(ws_.get_executor(), [self = shared_from_this()] {
    if (self->close_requested_ || self->closing_)
      return;
    self->close_requested_ = true;
    if (!self->writing_)
      self->do_close();
  });
}

void websocket_connection::do_close() {
  if (closing_)
    return;
  closing_ = true;
  ws_.async_close(websocket::close_code::normal,
                  [self = shared_from_this()](beast::error_code) {
                    self->report_closed("transport close");
                  });
}

void websocket_connection::hard_close(const char* why) {
  util::debug_log("websocket connection ", id_, " aborted: ", why);
  report_closed("transport error");
  closing_ = true;
  if (!writing_) {
    queue_.clear(); // a pending write still owns the front packet
    queued_bytes_ = 0;
  }
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(ws_).socket().close(ec);
}

void websocket_connection::report_closed(const std::string& reason) {
  if (reported_ || !session_)
    return;
  reported_ = true;
  caf::anon_send(session_, engineio::ws_closed_atom::value, id_, reason);
  session_ = nullptr; // the session holds us; holding it back would be a cycle
}

} // namespace sio::net
