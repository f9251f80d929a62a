#include "net/websocket_connection.hpp"

#include <array>
#include <cerrno>

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <caf/send.hpp>

#include "engineio/atoms.hpp"
#include "util/debug_log.hpp"

namespace sio::net {

namespace websocket = beast::websocket;

namespace {

/// How long a closing connection waits for the peer's FIN after our close frame.
constexpr std::chrono::seconds linger_time{5};
/// Frames per sendmsg (two buffers each: header and payload).
constexpr std::size_t frames_per_write = 64;
/// Bytes read per system call, into a buffer shared by the I/O thread's connections.
constexpr std::size_t read_chunk = 64 * 1024;
/// Reads per readiness event before other connections get their turn.
constexpr int reads_per_turn = 4;

} // namespace

class websocket_connection::parser_sink final : public ws::frame_sink {
public:
  explicit parser_sink(websocket_connection& c) : c_(c) {
  }
  void on_message(std::string& data, bool binary) override {
    if (c_.session_)
      caf::anon_send(c_.session_, engineio::ws_frame_atom::value, c_.id_, std::move(data), binary);
  }
  void on_ping(std::string_view payload) override {
    std::lock_guard<std::mutex> guard{c_.mutex_};
    if (c_.closed_ || c_.close_queued_)
      return;
    c_.enqueue_locked(ws::opcode::pong, nullptr, std::string{payload});
    if (!c_.flush_locked())
      c_.fail_later("write failed");
  }
  void on_close(std::uint16_t code) override {
    // Echo the peer's code (RFC 6455 5.5.1); 1005 means it sent none.
    bool valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
                 || (code >= 3000 && code <= 4999);
    std::uint16_t reply = code == 1005 ? std::uint16_t{ws::normal} : valid ? code : std::uint16_t{ws::protocol_error};
    c_.close_with(reply);
    c_.report_closed("transport close");
  }
  void on_error(ws::close_code code, const char* what) override {
    util::debug_log("websocket connection ", c_.id_, ": ", what);
    c_.close_with(code);
    c_.report_closed("transport error");
  }

private:
  websocket_connection& c_;
};

websocket_connection::websocket_connection(beast::tcp_stream stream,
                                           std::size_t max_message_bytes,
                                           std::size_t max_queue_bytes,
                                           std::chrono::milliseconds idle_timeout,
                                           live_connection token)
  : websocket_connection(nullptr, stream.release_socket(), max_message_bytes, max_queue_bytes,
                         idle_timeout, std::move(token)) {
}

websocket_connection::websocket_connection(tls_stream stream, std::size_t max_message_bytes,
                                           std::size_t max_queue_bytes,
                                           std::chrono::milliseconds idle_timeout,
                                           live_connection token)
  : websocket_connection(std::make_unique<tls_stream>(std::move(stream)), std::nullopt,
                         max_message_bytes, max_queue_bytes, idle_timeout, std::move(token)) {
}

websocket_connection::websocket_connection(std::unique_ptr<tls_stream> tls,
                                           std::optional<socket_type> plain,
                                           std::size_t max_message_bytes,
                                           std::size_t max_queue_bytes,
                                           std::chrono::milliseconds idle_timeout,
                                           live_connection token)
  : tls_(std::move(tls)), plain_socket_(std::move(plain)),
    socket_(tls_ ? tls_->next_layer().socket() : *plain_socket_), id_(engineio::new_channel_id()),
    max_queue_bytes_(max_queue_bytes), parser_(max_message_bytes),
    idle_timer_(socket_.get_executor()), idle_timeout_(idle_timeout), token_(std::move(token)) {
  beast::error_code ec;
  // Small frames go out at once (as Node's ws does).
  socket_.set_option(tcp::no_delay{true}, ec);
  if (tls_)
    tls_in_ = std::make_unique<std::array<char, 16 * 1024>>();
}

void websocket_connection::accept(request req, ready_fn ready) {
  if (tls_)
    answer_upgrade(*tls_, std::move(req), std::move(ready));
  else
    answer_upgrade(socket_, std::move(req), std::move(ready));
}

template <class Next>
void websocket_connection::answer_upgrade(Next& next, request req, ready_fn ready) {
  // Beast answers the upgrade (and refuses a bad one); it only borrows the stream.
  auto handshake = std::make_shared<websocket::stream<Next&>>(next);
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds{30};
  timeouts.idle_timeout = websocket::stream_base::none(); // the session's heartbeat does that
  timeouts.keep_alive_pings = false;
  handshake->set_option(timeouts);
  handshake->set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(http::field::server, "sio-actor");
  }));
  auto self = shared_from_this();
  handshake->async_accept(req, [self, handshake, ready = std::move(ready)](
                                 beast::error_code ec) mutable {
    // Not destroyed inside its own completion handler; it borrows our stream,
    // so it goes first.
    asio::post(self->socket_.get_executor(),
               [self, done = std::move(handshake)]() mutable { done.reset(); });
    if (ec) {
      std::lock_guard<std::mutex> guard{self->mutex_};
      self->close_socket_locked();
      return;
    }
    self->watch_idle();
    ready(self);
  });
}

void websocket_connection::attach(caf::actor session) {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), session = std::move(session)] {
    if (self->session_ || self->reported_)
      return; // already reading (attach is idempotent)
    self->session_ = session;
    self->wait_readable();
  });
}

// -- reading -------------------------------------------------------------------

void websocket_connection::wait_readable() {
  if (!socket_.is_open())
    return;
  reading_ = true;
  if (tls_) {
    read_tls();
    return;
  }
  socket_.async_wait(socket_type::wait_read, [self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      self->reading_ = false;
      self->report_closed("transport close");
      return;
    }
    self->on_readable();
  });
}

void websocket_connection::on_readable() {
  thread_local std::array<char, read_chunk> buffer;
  parser_sink sink{*this};
  for (int turn = 0; turn < reads_per_turn && socket_.is_open(); ++turn) {
    auto n = ::recv(socket_.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) {
      read_since_check_ = true;
      parser_.feed(buffer.data(), static_cast<std::size_t>(n), sink);
      if (static_cast<std::size_t>(n) < buffer.size())
        break; // drained
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    // EOF or a reset: the peer is gone.
    reading_ = false;
    report_closed(n == 0 ? "transport close" : "transport error");
    std::lock_guard<std::mutex> guard{mutex_};
    close_socket_locked();
    return;
  }
  wait_readable();
}

void websocket_connection::read_tls() {
  tls_->async_read_some(
    asio::buffer(*tls_in_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) {
        self->reading_ = false;
        // EOF with or without close_notify, or our own close: the peer is done.
        bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                      || ec == asio::error::operation_aborted;
        self->report_closed(closed ? "transport close" : "transport error");
        std::lock_guard<std::mutex> guard{self->mutex_};
        self->close_socket_locked();
        return;
      }
      self->read_since_check_ = true;
      parser_sink sink{*self};
      self->parser_.feed(self->tls_in_->data(), n, sink);
      self->wait_readable();
    });
}

// -- writing -------------------------------------------------------------------

void websocket_connection::send(std::vector<engineio::packet_ptr> packets, bool is_volatile) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (closed_ || close_queued_)
    return;
  // Volatile packets are for clients that can take them now, never queued.
  if (is_volatile && (waiting_writable_ || !queue_.empty()))
    return;
  for (auto& p : packets) {
    auto op = p->is_binary() ? ws::opcode::binary : ws::opcode::text;
    enqueue_locked(op, std::move(p), {});
  }
  if (queued_bytes_ > max_queue_bytes_)
    fail_later("slow consumer: write queue limit exceeded");
  else if (!flush_locked())
    fail_later("write failed");
}

bool websocket_connection::flush_locked() {
  if (waiting_writable_)
    return true; // the I/O thread writes the queue when the socket drains
  if (tls_) {
    if (!queue_.empty())
      write_tls_later_locked();
    return true;
  }
  if (!write_now_locked())
    return false;
  if (!queue_.empty())
    wait_writable_locked();
  return true;
}

void websocket_connection::fail_later(const char* why) {
  closed_ = true; // nothing more is written
  asio::post(socket_.get_executor(), [self = shared_from_this(), why] { self->hard_close(why); });
}

void websocket_connection::enqueue_locked(ws::opcode op, engineio::packet_ptr packet,
                                          std::string control) {
  out_frame f;
  f.packet = std::move(packet);
  f.control = std::move(control);
  f.header = ws::make_frame_header(op, f.payload().size());
  queued_bytes_ += f.size();
  queue_.push_back(std::move(f));
}

bool websocket_connection::write_now_locked() {
  while (!queue_.empty()) {
    std::array<iovec, 2 * frames_per_write> iov;
    std::size_t count = 0;
    std::size_t requested = 0;
    for (std::size_t i = 0; i < queue_.size() && i < frames_per_write; ++i) {
      auto& f = queue_[i];
      std::size_t skip = f.written;
      if (skip < f.header.size) {
        iov[count++] = {f.header.bytes.data() + skip, f.header.size - skip};
        requested += f.header.size - skip;
        skip = 0;
      } else {
        skip -= f.header.size;
      }
      auto payload = f.payload();
      if (payload.size() > skip) {
        iov[count++] = {const_cast<char*>(payload.data()) + skip, payload.size() - skip};
        requested += payload.size() - skip;
      }
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    auto n = ::sendmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return true; // the I/O thread goes on when the socket drains
      closed_ = true;
      queue_.clear();
      queued_bytes_ = 0;
      return false;
    }
    auto left = static_cast<std::size_t>(n);
    std::size_t done = 0;
    while (done < queue_.size() && left > 0) {
      auto& f = queue_[done];
      auto rest = f.size() - f.written;
      if (left < rest) {
        f.written += left;
        left = 0;
        break;
      }
      left -= rest;
      queued_bytes_ -= f.size();
      ++done;
    }
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(done));
    if (static_cast<std::size_t>(n) < requested)
      return true; // the socket's buffer is full
  }
  if (queue_.capacity() > frames_per_write)
    std::vector<out_frame>{}.swap(queue_); // a burst is over: give its memory back
  return true;
}

void websocket_connection::wait_writable_locked() {
  if (waiting_writable_)
    return;
  waiting_writable_ = true;
  // Posted, never run inline: the caller holds the mutex.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->socket_.is_open()) {
      std::lock_guard<std::mutex> guard{self->mutex_};
      self->waiting_writable_ = false;
      return;
    }
    self->socket_.async_wait(socket_type::wait_write,
                             [self](beast::error_code ec) {
                               if (ec) {
                                 std::lock_guard<std::mutex> guard{self->mutex_};
                                 self->waiting_writable_ = false;
                                 return;
                               }
                               self->on_writable();
                             });
  });
}

void websocket_connection::on_writable() {
  std::unique_lock<std::mutex> lock{mutex_};
  waiting_writable_ = false;
  if (!socket_.is_open())
    return;
  finish_flush(std::move(lock));
}

void websocket_connection::write_tls_later_locked() {
  waiting_writable_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->write_tls(); });
}

void websocket_connection::write_tls() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (!socket_.is_open() || queue_.empty()) {
      waiting_writable_ = false;
      return;
    }
    // One buffer for the whole queue: OpenSSL makes a record (and Asio a
    // send) per buffer, and a frame is two (its header and its payload).
    // What is written no longer counts against max_queue_bytes; what is
    // queued meanwhile does.
    tls_out_.clear();
    for (auto& f : queue_) {
      tls_out_.append(reinterpret_cast<const char*>(f.header.bytes.data()), f.header.size);
      tls_out_.append(f.payload());
    }
    queue_.clear();
    queued_bytes_ = 0;
  }
  asio::async_write(*tls_, asio::buffer(tls_out_),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (self->tls_out_.capacity() > read_chunk)
                        std::string{}.swap(self->tls_out_); // a burst is over
                      std::unique_lock<std::mutex> lock{self->mutex_};
                      self->waiting_writable_ = false;
                      if (!self->socket_.is_open())
                        return; // closed meanwhile (and reported)
                      if (ec) {
                        self->closed_ = true;
                        lock.unlock();
                        self->hard_close("write failed");
                        return;
                      }
                      self->finish_flush(std::move(lock));
                    });
}

void websocket_connection::finish_flush(std::unique_lock<std::mutex> lock) {
  bool written = flush_locked();
  bool close_frame_out = written && !waiting_writable_ && close_queued_;
  lock.unlock();
  if (!written)
    hard_close("write failed");
  else if (close_frame_out)
    after_close_frame_written();
}

void websocket_connection::watch_idle() {
  idle_timer_.expires_after(idle_timeout_);
  idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->socket_.is_open())
      return;
    if (!std::exchange(self->read_since_check_, false)) {
      self->hard_close("idle timeout");
      return;
    }
    self->watch_idle();
  });
}

// -- closing -------------------------------------------------------------------

void websocket_connection::close() {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    self->close_with(ws::normal);
  });
}

void websocket_connection::close_with(std::uint16_t code) {
  std::unique_lock<std::mutex> lock{mutex_};
  if (close_queued_ || closed_)
    return;
  close_queued_ = true;
  enqueue_locked(ws::opcode::close, nullptr, ws::close_payload(code));
  finish_flush(std::move(lock)); // not all written: on_writable() goes on after it
}

void websocket_connection::after_close_frame_written() {
  std::lock_guard<std::mutex> guard{mutex_};
  closed_ = true;
  if (!socket_.is_open())
    return;
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (!reading_) {
    close_socket_locked();
    return;
  }
  // Closing at once could reset the connection while the peer still sends,
  // and a reset can destroy what it has not read yet: wait for its FIN.
  linger();
}

void websocket_connection::linger() {
  linger_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor(), linger_time);
  linger_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec)
      return;
    self->report_closed("transport close");
    std::lock_guard<std::mutex> guard{self->mutex_};
    self->close_socket_locked();
  });
}

void websocket_connection::hard_close(const char* why) {
  util::debug_log("websocket connection ", id_, " aborted: ", why);
  report_closed("transport error");
  std::lock_guard<std::mutex> guard{mutex_};
  close_socket_locked();
}

void websocket_connection::close_socket_locked() {
  closed_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  if (linger_timer_)
    linger_timer_->cancel();
  idle_timer_.cancel();
  if (!socket_.is_open())
    return;
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

void websocket_connection::report_closed(const std::string& reason) {
  if (reported_ || !session_)
    return;
  reported_ = true;
  caf::anon_send(session_, engineio::ws_closed_atom::value, id_, reason);
  session_ = nullptr; // the session holds us; holding it back would be a cycle
}

} // namespace sio::net
