// One WebSocket connection carrying an Engine.IO session: frames in go to the
// session actor, packets out go through a bounded queue with one outstanding
// write at a time, all on the connection's strand.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "engineio/transport.hpp"
#include "net/http_types.hpp"
#include "net/live_counter.hpp"

namespace sio::net {

class websocket_connection final : public engineio::ws_channel,
                                   public std::enable_shared_from_this<websocket_connection> {
public:
  websocket_connection(beast::tcp_stream stream, std::size_t max_message_bytes,
                       std::size_t max_queue_bytes, std::chrono::milliseconds idle_timeout,
                       live_connection token = {});

  /// Completes the handshake; `ready` runs on the strand once it succeeded.
  void accept(request req, std::function<void(std::shared_ptr<websocket_connection>)> ready);

  std::uint64_t id() const noexcept override { return id_; }
  void attach(caf::actor session) override;
  void send(std::vector<engineio::packet_ptr> packets, bool is_volatile) override;
  void close() override;

private:
  void do_read();
  void do_write();
  void do_close();
  void hard_close(const char* reason);
  void report_closed(const std::string& reason);

  beast::websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer read_buffer_;
  std::uint64_t id_;
  std::size_t max_queue_bytes_;
  caf::actor session_;

  std::deque<engineio::packet_ptr> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool close_requested_ = false;
  bool closing_ = false;
  bool reported_ = false;
  live_connection token_; // counts us at our I/O shard
};

} // namespace sio::net
