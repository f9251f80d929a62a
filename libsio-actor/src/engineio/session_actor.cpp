#include "engineio/session_actor.hpp"

#include <caf/all.hpp>

#include "engineio/atoms.hpp"
#include "engineio/packet_v3.hpp"
#include "util/debug_log.hpp"
#include "util/unexpected_message.hpp"
#include "sio/json.hpp"

namespace sio::engineio {

std::string error_body(int code) {
  static const char* messages[] = {"Transport unknown", "Session ID unknown",
                                   "Bad handshake method", "Bad request",
                                   "Forbidden", "Unsupported protocol version"};
  json body = json::object();
  body["code"] = code;
  body["message"] = (code >= 0 && code <= 5) ? messages[code] : "Bad request";
  return body.dump();
}

namespace {

enum class transport_kind { polling, websocket };
enum class ready_state { open, closing, closed };

packet_ptr make_text(packet_type type, std::string_view data = {}) {
  return std::make_shared<const packet>(packet::text(type, data));
}

class session_actor final : public caf::event_based_actor, public session_context {
public:
  session_actor(caf::actor_config& cfg, session_config sc)
    : caf::event_based_actor(cfg), cfg_(std::move(sc)),
      handshake_(std::make_shared<const sio::handshake>(std::move(cfg_.handshake))) {
  }

  // -- session_context -------------------------------------------------------

  const std::string& sid() const noexcept override { return cfg_.sid; }
  const sio::handshake& handshake() const noexcept override { return *handshake_; }
  std::shared_ptr<const sio::handshake> shared_handshake() const noexcept override {
    return handshake_;
  }
  caf::event_based_actor* self() noexcept override { return this; }
  int protocol() const noexcept override { return cfg_.protocol; }

  void write(std::vector<packet_ptr> packets, bool is_volatile) override {
    if (state_ != ready_state::open || packets.empty())
      return;
    if (transport_ == transport_kind::websocket) {
      write_ws(std::move(packets), is_volatile);
      return;
    }
    // Long-polling is writable only while a GET waits (Node's rule for volatile).
    if (is_volatile && !pending_get_)
      return;
    for (auto& p : packets) {
      buffered_bytes_ += p->wire().size();
      buffer_.push_back(std::move(p));
    }
    if (buffered_bytes_ > cfg_.options->max_buffered_bytes) {
      // A client that stopped polling must not make the server grow without bound.
      on_close("transport error");
      return;
    }
    flush();
  }

  void close_session(const std::string& reason) override {
    if (state_ != ready_state::open)
      return;
    if (transport_ == transport_kind::websocket) {
      on_close(reason);
      return;
    }
    // Polling: the close packet goes out with the next GET (or the one
    // waiting). As Node (socket.close() waits for "drain"): what is already
    // buffered goes first, in its own response; clients handle Socket.IO
    // packets a tick later, so a close in the same payload would overtake them.
    state_ = ready_state::closing;
    closing_reason_ = reason;
    close_queued_ = buffer_.empty();
    if (close_queued_)
      buffer_.push_back(make_text(packet_type::close));
    delayed_send(this, cfg_.options->ping_timeout, close_timeout_atom::value);
    flush();
  }

  // -- actor -----------------------------------------------------------------

  caf::behavior make_behavior() override {
    set_default_handler(util::log_unexpected);
    caf::message_handler handler{
      [=](poll_atom, std::shared_ptr<poll_responder>& r) { on_poll(std::move(r)); },
      [=](poll_aborted_atom, const std::shared_ptr<poll_responder>& r) {
        // Node: "poll connection closed prematurely" ends the session.
        if (pending_get_ == r) {
          pending_get_.reset();
          on_close("transport error");
        }
      },
      [=](data_atom, std::vector<packet>& packets) { on_data(packets); },
      [=](parse_error_atom) { on_close("parse error"); },
      [=](post_body_atom, const std::string& body) {
        // A POST relayed by another node, which does not know our protocol.
        std::vector<packet> packets;
        bool ok = cfg_.protocol == 3 ? decode_payload_v3(body, false, packets)
                                     : decode_payload(body, packets);
        if (ok)
          on_data(packets);
        else
          on_close("parse error");
      },
      [=](ws_open_atom, std::shared_ptr<ws_channel>& ws) { on_ws_open(std::move(ws)); },
      [=](ws_frame_atom, std::uint64_t id, std::string& data, bool binary) {
        on_ws_frame(id, data, binary);
      },
      [=](ws_closed_atom, std::uint64_t id, std::string& reason) { on_ws_closed(id, reason); },
      [=](send_atom, std::vector<packet_ptr>& packets, bool is_volatile) {
        write(std::move(packets), is_volatile);
      },
      [=](ws_flush_atom) {
        flush_scheduled_ = false;
        flush_ws();
      },
      [=](ping_atom, std::uint64_t gen) {
        if (gen == ping_gen_)
          send_ping();
      },
      [=](ping_timeout_atom, std::uint64_t gen) {
        if (gen == ping_gen_)
          on_close("ping timeout");
      },
      [=](upgrade_timeout_atom, std::uint64_t gen) {
        if (gen == upgrade_gen_ && upgrading_ws_) {
          upgrading_ws_->close();
          upgrading_ws_.reset();
        }
      },
      [=](upgrade_check_atom, std::uint64_t gen) {
        if (gen != upgrade_gen_ || !upgrading_ws_)
          return;
        // Release the waiting GET so the client can pause polling and upgrade.
        if (pending_get_)
          answer_get(packet_type::noop);
        delayed_send(this, std::chrono::milliseconds{100}, upgrade_check_atom::value, gen);
      },
      [=](close_timeout_atom) {
        if (state_ == ready_state::closing)
          on_close(closing_reason_);
      },
    };
    if (auto extra = cfg_.handler->extra_behavior(*this))
      handler = handler.or_else(extra);
    open();
    return handler;
  }

  void on_exit() override {
    // Killed (server stop, actor system shutdown): the application layer must
    // still hear of it, or the actors it spawned would live on.
    if (state_ != ready_state::closed) {
      state_ = ready_state::closed;
      cfg_.handler->on_close(*this, "server shutting down");
    }
    release_transports();
    cfg_.slot.reset();
    cfg_.registry->remove(cfg_.sid); // last: http_server::stop() waits for this
  }

private:
  /// Writes to the WebSocket. While more messages wait in the mailbox (a
  /// burst of broadcasts, say), the packets are held back and go out together
  /// after them: one system call for many frames. An idle session writes at once.
  void write_ws(std::vector<packet_ptr> packets, bool is_volatile) {
    if (cfg_.protocol == 3)
      packets = to_frames_v3(std::move(packets));
    if (is_volatile) {
      flush_ws(); // a volatile packet is dropped if anything is still queued: decide after the rest
      active_ws_->send(std::move(packets), true);
      return;
    }
    if (ws_held_.empty() && mailbox().empty()) {
      active_ws_->send(std::move(packets), false);
      return;
    }
    ws_held_.insert(ws_held_.end(), std::make_move_iterator(packets.begin()),
                    std::make_move_iterator(packets.end()));
    if (mailbox().empty()) {
      flush_ws();
    } else if (!flush_scheduled_) {
      flush_scheduled_ = true;
      send(this, ws_flush_atom::value); // runs after the messages waiting now
    }
  }

  static std::vector<packet_ptr> to_frames_v3(std::vector<packet_ptr> packets) {
    for (auto& p : packets)
      p = to_frame_v3(p);
    return packets;
  }

  /// Releases the waiting GET with a payload of one packet (noop, close).
  void answer_get(packet_type type) {
    auto r = std::exchange(pending_get_, nullptr);
    if (cfg_.protocol == 3)
      r->send_payload(encode_payload_v3({make_text(type)}, false).body);
    else
      r->send_payload(std::string(1, static_cast<char>(type)));
  }

  void flush_ws() {
    if (ws_held_.empty() || !active_ws_)
      return;
    active_ws_->send(std::exchange(ws_held_, {}), false);
  }

  /// Transports hold a handle to this actor: drop ours so neither keeps the other alive.
  void release_transports() {
    if (pending_get_)
      answer_get(packet_type::close);
    flush_ws();
    if (active_ws_)
      std::exchange(active_ws_, nullptr)->close();
    if (upgrading_ws_)
      std::exchange(upgrading_ws_, nullptr)->close();
    buffer_.clear();
  }

  void open() {
    cfg_.registry->add(cfg_.sid, caf::actor_cast<caf::actor>(this), cfg_.first_ws != nullptr,
                       cfg_.protocol);
    const auto& opts = *cfg_.options;
    json hs = json::object();
    hs["sid"] = cfg_.sid;
    hs["upgrades"] = json::array();
    if (cfg_.first_poll && opts.allow_upgrades && opts.allow_websocket)
      hs["upgrades"].push_back("websocket");
    hs["pingInterval"] = opts.ping_interval.count();
    hs["pingTimeout"] = opts.ping_timeout.count();
    if (cfg_.protocol == 4) // v3 has no maxPayload (its clients send what they have)
      hs["maxPayload"] = opts.max_http_buffer_size;
    auto open_packet = make_text(packet_type::open, hs.dump());
    if (cfg_.first_ws) {
      transport_ = transport_kind::websocket;
      active_ws_ = std::move(cfg_.first_ws);
      active_ws_->attach(caf::actor_cast<caf::actor>(this));
      active_ws_->send({open_packet}, false);
    } else {
      transport_ = transport_kind::polling;
      pending_get_ = std::move(cfg_.first_poll);
      write({open_packet}, false);
    }
    if (cfg_.protocol == 3)
      expect_ping();
    else
      schedule_ping();
    cfg_.handler->on_open(*this);
  }

  // -- heartbeat (server sends ping, client must answer within ping_timeout) --

  // The deadline counts from when the ping was due, not from when a busy
  // scheduler got to send it, and every inbound request checks it: a client
  // that never answers is gone at exactly pingInterval + pingTimeout.
  void schedule_ping() {
    ++ping_gen_;
    auto now = std::chrono::steady_clock::now();
    pong_deadline_ = now + cfg_.options->ping_interval + cfg_.options->ping_timeout;
    delayed_send(this, cfg_.options->ping_interval, ping_atom::value, ping_gen_);
  }

  void send_ping() {
    write({make_text(packet_type::ping)}, false);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      pong_deadline_ - std::chrono::steady_clock::now());
    delayed_send(this, std::max(left, std::chrono::milliseconds{0}), ping_timeout_atom::value,
                 ping_gen_);
  }

  // v3: the client pings every pingInterval and the server answers. Node
  // closes a client silent for pingInterval + pingTimeout; we keep the same
  // deadline and timer as in v4, without server pings.
  void expect_ping() {
    ++ping_gen_;
    auto wait = cfg_.options->ping_interval + cfg_.options->ping_timeout;
    pong_deadline_ = std::chrono::steady_clock::now() + wait;
    delayed_send(this, wait, ping_timeout_atom::value, ping_gen_);
  }

  /// True (and the session closed) if the client missed its pong deadline.
  bool missed_pong() {
    if (state_ == ready_state::closed || std::chrono::steady_clock::now() < pong_deadline_)
      return false;
    on_close("ping timeout");
    return true;
  }

  // -- inbound ---------------------------------------------------------------

  void on_packet(const packet& p) {
    // As Node's Socket#onPacket: a session that is closing takes no more packets.
    if (state_ != ready_state::open)
      return;
    switch (p.type()) {
      case packet_type::pong:
        if (cfg_.protocol == 3) {
          on_close("transport error"); // "invalid heartbeat direction" in Node
          return;
        }
        schedule_ping();
        break;
      case packet_type::message:
        cfg_.handler->on_message(*this, p);
        break;
      case packet_type::close:
        // As Node's polling transport: a waiting GET is released with a noop.
        if (pending_get_)
          answer_get(packet_type::noop);
        on_close("transport close");
        break;
      case packet_type::ping:
        if (cfg_.protocol == 3) {
          write({make_text(packet_type::pong)}, false);
          expect_ping();
          break;
        }
        // v4: only the server pings ("invalid heartbeat direction" in Node).
        on_close("transport error");
        break;
      default:
        break; // open, upgrade and noop carry nothing for an open session
    }
  }

  /// The packets of one polling POST.
  void on_data(const std::vector<packet>& packets) {
    if (missed_pong())
      return;
    if (transport_ == transport_kind::websocket) {
      // The endpoint refuses polling requests once the registry says
      // WebSocket; a POST relayed by another node can still get here.
      util::debug_log("session ", cfg_.sid, ": polling data after the upgrade dropped");
      return;
    }
    // Stop at the first packet that ends the session: a POST of 50,000
    // bad packets is one error, not 50,000 (closing counts as ended).
    for (auto& p : packets) {
      if (state_ != ready_state::open)
        break;
      on_packet(p);
    }
  }

  void on_poll(std::shared_ptr<poll_responder> r) {
    if (state_ == ready_state::closed || missed_pong()) {
      r->send_error(400, error_body(1));
      return;
    }
    if (transport_ == transport_kind::websocket) {
      r->send_error(400, error_body(3)); // transport mismatch after the upgrade
      return;
    }
    if (pending_get_ && pending_get_->relayed()) {
      answer_get(packet_type::noop); // the relay may be gone
    } else if (pending_get_) {
      // Two GETs at once: Node answers the new one 400 and closes the session.
      r->send_error(400, "");
      on_close("transport error");
      return;
    }
    pending_get_ = std::move(r);
    flush();
  }

  void flush() {
    if (!pending_get_ || buffer_.empty())
      return;
    bool sends_close = state_ == ready_state::closing && close_queued_;
    send_buffer();
    if (sends_close) {
      on_close(closing_reason_);
    } else if (state_ == ready_state::closing) {
      close_queued_ = true; // the buffer went out; the close packet follows with the next GET
      buffer_.push_back(make_text(packet_type::close));
    }
  }

  void send_buffer() {
    auto r = std::exchange(pending_get_, nullptr);
    if (cfg_.protocol == 4) {
      r->send_payload(encode_payload(buffer_));
    } else {
      // A relayed GET answers with text only; every v3 client reads both framings.
      auto payload = encode_payload_v3(buffer_, cfg_.supports_binary && !r->relayed());
      if (payload.binary)
        r->send_binary_payload(std::move(payload.body));
      else
        r->send_payload(std::move(payload.body));
    }
    buffer_.clear();
    buffered_bytes_ = 0;
  }

  void on_ws_open(std::shared_ptr<ws_channel> ws) {
    const auto& opts = *cfg_.options;
    if (state_ != ready_state::open || !opts.allow_upgrades
        || transport_ == transport_kind::websocket || upgrading_ws_) {
      ws->close();
      return;
    }
    upgrading_ws_ = std::move(ws);
    upgrading_ws_->attach(caf::actor_cast<caf::actor>(this));
    ++upgrade_gen_;
    delayed_send(this, opts.upgrade_timeout, upgrade_timeout_atom::value, upgrade_gen_);
  }

  void on_ws_frame(std::uint64_t id, const std::string& data, bool binary) {
    if (state_ == ready_state::closed || missed_pong())
      return;
    auto p = cfg_.protocol == 3 ? decode_frame_v3(data, binary) : decode_frame(data, binary);
    if (active_ws_ && id == active_ws_->id()) {
      if (!p)
        on_close("parse error");
      else
        on_packet(*p);
      return;
    }
    if (!upgrading_ws_ || id != upgrading_ws_->id())
      return; // a frame from a transport we already dropped
    if (p && p->type() == packet_type::ping && p->data() == "probe") {
      upgrading_ws_->send({make_text(packet_type::pong, "probe")}, false);
      delayed_send(this, std::chrono::milliseconds{100}, upgrade_check_atom::value,
                   upgrade_gen_);
    } else if (p && p->type() == packet_type::upgrade) {
      complete_upgrade();
    } else {
      upgrading_ws_->close();
      upgrading_ws_.reset();
    }
  }

  void complete_upgrade() {
    ++upgrade_gen_; // stops the check and timeout timers
    // A client pauses polling before it sends "5" (the check timer released
    // its last GET), so a GET still waiting here raced ahead of the WebSocket
    // frames on another connection: answer it as if it came after the upgrade.
    if (pending_get_)
      std::exchange(pending_get_, nullptr)->send_error(400, error_body(3));
    transport_ = transport_kind::websocket;
    cfg_.registry->set_websocket(cfg_.sid); // polling requests are refused from now on
    active_ws_ = std::move(upgrading_ws_);
    if (!buffer_.empty()) {
      active_ws_->send(cfg_.protocol == 3 ? to_frames_v3(std::move(buffer_)) : std::move(buffer_),
                       false);
      buffer_.clear();
      buffered_bytes_ = 0;
    }
  }

  void on_ws_closed(std::uint64_t id, const std::string& reason) {
    if (active_ws_ && id == active_ws_->id())
      on_close(reason);
    else if (upgrading_ws_ && id == upgrading_ws_->id())
      upgrading_ws_.reset(); // the upgrade failed; polling goes on
  }

  /// The session is over: tell the handler, release transports, stop.
  void on_close(const std::string& reason) {
    if (state_ == ready_state::closed)
      return;
    state_ = ready_state::closed;
    util::debug_log("session ", cfg_.sid, " closed: ", reason);
    ++ping_gen_;
    pong_deadline_ = std::chrono::steady_clock::time_point::max();
    ++upgrade_gen_;
    cfg_.registry->remove(cfg_.sid);
    cfg_.slot.reset(); // a new session may take our place
    cfg_.handler->on_close(*this, reason);
    release_transports();
    quit();
  }

  session_config cfg_;
  std::shared_ptr<const sio::handshake> handshake_; // moved out of cfg_
  ready_state state_ = ready_state::open;
  transport_kind transport_ = transport_kind::polling;
  std::string closing_reason_;
  bool close_queued_ = false; // the close packet is in buffer_

  std::shared_ptr<poll_responder> pending_get_;
  std::vector<packet_ptr> buffer_;
  std::size_t buffered_bytes_ = 0;

  std::shared_ptr<ws_channel> active_ws_;
  std::vector<packet_ptr> ws_held_; // see write_ws()
  bool flush_scheduled_ = false;
  std::shared_ptr<ws_channel> upgrading_ws_;

  std::uint64_t ping_gen_ = 0;
  std::chrono::steady_clock::time_point pong_deadline_ = std::chrono::steady_clock::time_point::max();
  std::uint64_t upgrade_gen_ = 0;
};

} // namespace

caf::actor spawn_session(caf::actor_system& sys, session_config cfg) {
  return sys.spawn<session_actor>(std::move(cfg));
}

} // namespace sio::engineio
