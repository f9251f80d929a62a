// One WebSocket connection carrying an Engine.IO session. Beast performs the
// HTTP upgrade; after it the connection frames its own bytes (websocket_frames):
//  - reads wait for readability and then read into a per-thread buffer, so an
//    idle connection holds no read buffer;
//  - writes are made by the thread that sends (usually the session actor's),
//    directly with one sendmsg for every frame queued, without a hop to the
//    I/O thread; only when the socket's buffer is full does the I/O thread
//    take over and finish the write when the socket is writable again.
// Over TLS the stream is not ours to bypass: the I/O thread reads and writes
// through OpenSSL (one write in flight, the whole queue at once), and only
// the queueing is done by the sending thread.
// A mutex guards the write state and the descriptor; reads, closing and
// reporting to the session run on the connection's I/O thread (each I/O
// shard is one io_context run by one thread, so that thread serializes them).
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <caf/actor.hpp>

#include "engineio/transport.hpp"
#include "net/connection_stream.hpp"
#include "net/http_types.hpp"
#include "net/live_counter.hpp"
#include "net/websocket_frames.hpp"

namespace sio::net {

class websocket_connection final : public engineio::ws_channel,
                                   public std::enable_shared_from_this<websocket_connection> {
public:
  using socket_type = beast::tcp_stream::socket_type;

  websocket_connection(beast::tcp_stream stream, std::size_t max_message_bytes,
                       std::size_t max_queue_bytes, std::chrono::milliseconds idle_timeout,
                       live_connection token = {});
  /// The same over TLS (the stream's handshake done).
  websocket_connection(tls_stream stream, std::size_t max_message_bytes,
                       std::size_t max_queue_bytes, std::chrono::milliseconds idle_timeout,
                       live_connection token = {});

  /// Completes the handshake; `ready` runs on the I/O thread once it succeeded.
  void accept(request req, std::function<void(std::shared_ptr<websocket_connection>)> ready);

  std::uint64_t id() const noexcept override { return id_; }
  void attach(caf::actor session) override;
  void send(std::vector<engineio::packet_ptr> packets, bool is_volatile) override;
  void close() override;

private:
  /// A frame to write: its header and either a packet or a control payload.
  struct out_frame {
    engineio::packet_ptr packet;
    std::string control;
    ws::frame_header header;
    std::size_t written = 0; // of header + payload
    std::string_view payload() const noexcept { return packet ? packet->wire() : control; }
    std::size_t size() const noexcept { return header.size + payload().size(); }
  };
  class parser_sink;
  using ready_fn = std::function<void(std::shared_ptr<websocket_connection>)>;

  websocket_connection(std::unique_ptr<tls_stream> tls, std::optional<socket_type> plain,
                       std::size_t max_message_bytes, std::size_t max_queue_bytes,
                       std::chrono::milliseconds idle_timeout, live_connection token);

  /// Has Beast answer the upgrade on `next` (our socket or TLS stream).
  template <class Next>
  void answer_upgrade(Next& next, request req, ready_fn ready);

  // reading (I/O thread)
  void wait_readable();
  void on_readable();
  void read_tls();

  // writing (any thread, mutex held)
  void enqueue_locked(ws::opcode op, engineio::packet_ptr packet, std::string control);
  /// Writes the queue now unless the I/O thread owns the write; false if
  /// the connection failed.
  bool flush_locked();
  /// Writes what the socket takes now; false if the connection failed.
  bool write_now_locked();
  /// Stops writing and has the I/O thread close the connection.
  void fail_later(const char* why);
  /// Ensures the I/O thread finishes the write (mutex held).
  void wait_writable_locked();
  void on_writable();
  /// TLS: the I/O thread writes the queue (posted; mutex held).
  void write_tls_later_locked();
  void write_tls();
  /// Flushes; then, unlocked, closes a failed connection or, once our close
  /// frame is out, goes on closing.
  void finish_flush(std::unique_lock<std::mutex> lock);

  /// Closes a connection that read nothing for a whole idle period (a safety
  /// net: the session's heartbeat normally closes a silent client first).
  void watch_idle();

  // closing (I/O thread)
  void close_with(std::uint16_t code);
  void after_close_frame_written();
  void linger();
  void hard_close(const char* why);
  void close_socket_locked();
  void report_closed(const std::string& reason);

  std::unique_ptr<tls_stream> tls_;        // TLS only; it holds the socket
  std::optional<socket_type> plain_socket_; // without TLS
  socket_type& socket_;                     // the descriptor, either way
  std::uint64_t id_;
  std::size_t max_queue_bytes_;
  ws::frame_parser parser_;
  caf::actor session_; // I/O thread only
  std::unique_ptr<std::array<char, 16 * 1024>> tls_in_; // TLS: decrypted bytes (one record)
  std::string tls_out_; // TLS: the frames being written (I/O thread, while waiting_writable_)
  std::unique_ptr<asio::steady_timer> linger_timer_;
  asio::steady_timer idle_timer_;
  std::chrono::milliseconds idle_timeout_;
  bool read_since_check_ = false; // I/O thread only

  std::mutex mutex_; // guards what follows and the descriptor's life
  std::vector<out_frame> queue_;
  std::size_t queued_bytes_ = 0;
  bool waiting_writable_ = false; // the I/O thread owns the rest of the write
  bool close_queued_ = false;     // our close frame is in the queue
  bool closed_ = false;           // descriptor closed; nothing more to write
  bool reported_ = false;         // I/O thread only
  bool reading_ = false;          // I/O thread only
  live_connection token_;         // counts us at our I/O shard
};

} // namespace sio::net
