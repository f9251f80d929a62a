#include "net/engine_endpoint.hpp"

#include <atomic>
#include <chrono>
#include <optional>

#include <caf/send.hpp>

#include "engineio/atoms.hpp"
#include "engineio/id_generator.hpp"
#include "engineio/packet_v3.hpp"
#include "engineio/session_actor.hpp"
#include "net/cors.hpp"
#include "util/url.hpp"
#include "net/websocket_connection.hpp"
#include "sio/json.hpp"
#include "util/debug_log.hpp"

namespace sio::net {

namespace {

/// Answers one long-polling GET through its HTTP connection.
class http_poll_responder final : public engineio::poll_responder {
public:
  http_poll_responder(std::shared_ptr<http_connection> conn, const request& req,
                      std::shared_ptr<const engine_options> opts)
    : conn_(std::move(conn)), opts_(std::move(opts)), version_(req.version()),
      keep_alive_(req.keep_alive()), origin_(req[http::field::origin]) {
  }
  /// A GET sent to a session that has just ended is dropped with its message:
  /// once handed to a session or forwarder, it is answered as Node answers a
  /// sid it no longer has, or it would hang.
  ~http_poll_responder() override {
    if (!answer_if_dropped_)
      return;
    try {
      finish(http::status::bad_request, engineio::error_body(1), "application/json");
    } catch (...) {
      // out of memory while answering: the connection's own timeout ends it
    }
  }

  /// From now on someone else owns the answer (call while still holding it).
  void answer_if_dropped() { answer_if_dropped_ = true; }

  void send_payload(std::string payload) override {
    finish(http::status::ok, std::move(payload), "text/plain; charset=UTF-8");
  }
  void send_binary_payload(std::string payload) override {
    finish(http::status::ok, std::move(payload), "application/octet-stream");
  }
  void send_error(unsigned status, std::string json_body) override {
    finish(static_cast<http::status>(status), std::move(json_body), "application/json");
  }

private:
  void finish(http::status status, std::string body, std::string_view content_type) {
    if (answered_.exchange(true))
      return;
    auto res = make_response(status, std::move(body), content_type, version_, keep_alive_);
    request origin_only;
    if (!origin_.empty())
      origin_only.set(http::field::origin, origin_);
    apply_cors(opts_->cors, origin_only, res);
    conn_->respond(std::move(res));
  }

  std::shared_ptr<http_connection> conn_;
  std::shared_ptr<const engine_options> opts_;
  unsigned version_;
  bool keep_alive_;
  std::string origin_;
  std::atomic<bool> answered_{false};
  bool answer_if_dropped_ = false;
};

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

engine_endpoint::engine_endpoint(caf::actor_system& sys, engine_options opts,
                                 engineio::handler_factory factory,
                                 std::shared_ptr<engineio::session_registry> registry,
                                 std::string sid_prefix, forward_unknown_sid forward,
                                 forward_unknown_websocket forward_ws)
  : sys_(sys), options_(std::make_shared<const engine_options>(std::move(opts))),
    factory_(std::move(factory)),
    registry_(registry ? std::move(registry) : std::make_shared<engineio::session_registry>()),
    sid_prefix_(std::move(sid_prefix)), forward_(std::move(forward)),
    forward_ws_(std::move(forward_ws)) {
}

void engine_endpoint::reject(const std::shared_ptr<http_connection>& conn, const request& req,
                             int code) {
  auto res = make_response(http::status::bad_request, engineio::error_body(code),
                           "application/json", req.version(), req.keep_alive());
  apply_cors(options_->cors, req, res);
  conn->respond(std::move(res));
}

std::shared_ptr<const void> engine_endpoint::take_session_slot() {
  const auto max = options_->max_sessions;
  auto& n = *open_sessions_;
  auto current = n.load(std::memory_order_relaxed);
  do {
    if (max != 0 && current >= max)
      return nullptr;
  } while (!n.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  // Points at the counter (never null); the deleter gives the place back.
  auto counter = open_sessions_;
  return std::shared_ptr<const void>(counter.get(), [counter](const void*) {
    counter->fetch_sub(1, std::memory_order_relaxed);
  });
}

void engine_endpoint::refuse_handshake(const std::shared_ptr<http_connection>& conn,
                                       const request& req, bool websocket) {
  util::log_line("handshake refused: max_sessions (", options_->max_sessions, ") reached");
  // As Node refuses a handshake through allowRequest(req, cb) with
  // cb("Too many sessions", false): polling gets 403 with code 4 (Forbidden)
  // and the message; an upgrade gets abortUpgrade's 400 with the message.
  static const std::string message = "Too many sessions";
  if (websocket) {
    auto res = make_response(http::status::bad_request, message, "text/html", req.version(),
                             false);
    conn->respond(std::move(res));
    return;
  }
  json body = json::object();
  body["code"] = 4;
  body["message"] = message;
  auto res = make_response(http::status::forbidden, body.dump(), "application/json",
                           req.version(), req.keep_alive());
  apply_cors(options_->cors, req, res);
  conn->respond(std::move(res));
}

void engine_endpoint::handle(const std::shared_ptr<http_connection>& conn, request req) {
  const auto& opts = *options_;
  if (req.method() == http::verb::options) {
    conn->respond(make_preflight_response(opts.cors, req));
    return;
  }
  auto target = util::parse_target(req.target());
  auto& query = target.query;
  const auto& transport = query["transport"];
  bool polling = transport == "polling" && opts.allow_polling;
  bool websocket = transport == "websocket" && opts.allow_websocket;
  if (!polling && !websocket) {
    reject(conn, req, 0); // Transport unknown
    return;
  }
  bool upgrade = beast::websocket::is_upgrade(req);
  auto sid_it = query.find("sid");
  if (sid_it == query.end()) {
    if (req.method() != http::verb::get)
      return reject(conn, req, 2); // Bad handshake method
    // As Node: every EIO but "4" (absent too) means the v3 protocol.
    if (query["EIO"] != "4" && !opts.allow_eio3)
      return reject(conn, req, 5); // Unsupported protocol version
    if (websocket && !upgrade)
      return reject(conn, req, 3);
    open_session(conn, std::move(req), websocket);
    return;
  }
  auto found = registry_->find_entry(sid_it->second);
  auto session = found ? std::optional<caf::actor>{found->session} : std::nullopt;
  if (!session) {
    // Another node's (or worker's) session: stickiness is an optimisation,
    // the owner serves the request through the cluster.
    bool polling_request = polling && !upgrade
                           && (req.method() == http::verb::get || req.method() == http::verb::post);
    if (polling_request && forward_) {
      bool is_post = req.method() == http::verb::post;
      auto responder = std::make_shared<http_poll_responder>(conn, req, options_);
      if (forward_(sid_it->second, is_post, is_post ? std::move(req.body()) : std::string{},
                   responder)) {
        responder->answer_if_dropped();
        return;
      }
    }
    if (upgrade && websocket && forward_ws_) {
      if (auto relay = forward_ws_(sid_it->second)) {
        const auto& o = *options_;
        conn->upgrade_to_websocket(
          std::move(req), o.max_http_buffer_size, o.max_buffered_bytes,
          o.ping_interval + o.ping_timeout + std::chrono::seconds{5},
          [relay](std::shared_ptr<websocket_connection> ws) { relay(std::move(ws)); });
        return;
      }
    }
    return reject(conn, req, 1); // Session ID unknown
  }
  if (upgrade) {
    if (!websocket)
      return reject(conn, req, 3);
    conn->upgrade_to_websocket(
      std::move(req), opts.max_http_buffer_size, opts.max_buffered_bytes,
      opts.ping_interval + opts.ping_timeout + std::chrono::seconds{5},
      [session = *session](std::shared_ptr<websocket_connection> ws) {
        // Read at once rather than after a round trip through the session:
        // a client may send "2probe", "5" and then a GET on another connection
        // right away, and the session must see the frames first (as Node does).
        // ws_open is enqueued before any frame, so the session sees it first.
        caf::anon_send(session, engineio::ws_open_atom::value,
                       std::shared_ptr<engineio::ws_channel>{ws});
        ws->attach(session);
      });
    return;
  }
  // Node's TRANSPORT_MISMATCH: a request without upgrade must use the
  // session's transport. A session that upgraded to (or opened on) WebSocket
  // takes no polling GET or POST; websocket without upgrade is refused too.
  if (!polling || found->websocket)
    return reject(conn, req, 3);
  if (req.method() == http::verb::get) {
    auto http_responder = std::make_shared<http_poll_responder>(conn, req, options_);
    http_responder->answer_if_dropped();
    std::shared_ptr<engineio::poll_responder> responder = std::move(http_responder);
    // Weak: the connection must not keep its session (or itself) alive.
    conn->on_abort([session = caf::actor_cast<caf::weak_actor_ptr>(*session),
                    weak = std::weak_ptr<engineio::poll_responder>{responder}] {
      auto s = caf::actor_cast<caf::actor>(session);
      if (auto r = weak.lock(); s && r)
        caf::anon_send(s, engineio::poll_aborted_atom::value, std::move(r));
    });
    caf::anon_send(*session, engineio::poll_atom::value, std::move(responder));
  } else if (req.method() == http::verb::post) {
    // Decoding here, on the I/O thread, keeps the session actor's work small.
    std::vector<engineio::packet> packets;
    bool decoded =
      found->protocol == 3
        ? engineio::decode_payload_v3(
            req.body(), req[http::field::content_type] == "application/octet-stream", packets)
        : engineio::decode_payload(req.body(), packets);
    if (decoded)
      caf::anon_send(*session, engineio::data_atom::value, std::move(packets));
    else
      caf::anon_send(*session, engineio::parse_error_atom::value);
    auto res = make_response(http::status::ok, "ok", "text/html", req.version(),
                             req.keep_alive());
    apply_cors(opts.cors, req, res);
    conn->respond(std::move(res));
  } else {
    auto res = make_response(http::status::internal_server_error, "", "text/html",
                             req.version(), req.keep_alive());
    conn->respond(std::move(res));
  }
}

void engine_endpoint::open_session(const std::shared_ptr<http_connection>& conn, request req,
                                   bool websocket) {
  auto slot = take_session_slot();
  if (!slot)
    return refuse_handshake(conn, req, websocket);
  engineio::session_config cfg;
  cfg.slot = std::move(slot);
  cfg.sid = sid_prefix_ + engineio::generate_id();
  cfg.options = options_;
  cfg.registry = registry_;
  cfg.handler = factory_();
  auto target = util::parse_target(req.target());
  auto eio = target.query.find("EIO");
  if (eio == target.query.end() || eio->second != "4") {
    cfg.protocol = 3;
    // Node's test is the truthiness of the string: "b64=" asks for nothing.
    auto b64 = target.query.find("b64");
    cfg.supports_binary = b64 == target.query.end() || b64->second.empty();
  }
  cfg.handshake.query = std::move(target.query);
  cfg.handshake.url = std::string{req.target()};
  cfg.handshake.address = conn->remote_address();
  cfg.handshake.secure = conn->secure();
  cfg.handshake.issued = now_ms();
  for (auto& field : req) {
    auto name = std::string{field.name_string()};
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    cfg.handshake.headers[name] = std::string{field.value()};
  }
  if (!websocket) {
    cfg.first_poll = std::make_shared<http_poll_responder>(conn, req, options_);
    engineio::spawn_session(sys_, std::move(cfg));
    return;
  }
  const auto& opts = *options_;
  auto shared_cfg = std::make_shared<engineio::session_config>(std::move(cfg));
  conn->upgrade_to_websocket(
    std::move(req), opts.max_http_buffer_size, opts.max_buffered_bytes,
    opts.ping_interval + opts.ping_timeout + std::chrono::seconds{5},
    [this, shared_cfg](std::shared_ptr<websocket_connection> ws) {
      shared_cfg->first_ws = std::move(ws);
      engineio::spawn_session(sys_, std::move(*shared_cfg));
    });
}

} // namespace sio::net
