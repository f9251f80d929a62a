// sio-chat: the chat demo (docs/chat.md). One process serves
//   /                        the page (apps/chat/public/)
//   /socket.io/socket.io.js  the official browser client bundle (npm socket.io-client)
//   /socket.io/              the Socket.IO endpoint
// Events (namespace "/"):
//   chat message  client -> server: a string; server -> everyone:
//                 "port:<the port clients connect to> user:<socket id> msg:<text>"
//   users         server -> this node's clients: {"count": n, "online": cluster-wide n,
//                 "truncated": bool, "users": [first 100 ids, only when they changed]}
//   notice        server -> clients: {"kind": "welcome"|"join"|"leave"|"error"|"warning", "text": ...}
//   room join     client -> server: "#name" (ack true/false); then "room history"
//                 [name, [lines...]]: the last 50 lines of that room, from its room actor
//   room leave    client -> server: "#name"
//   room message  client -> server: [name, text]; server -> the room: [name, line]
//   echo          acks its arguments back at once          (benchmark contract)
//   join          joins the room named by the string argument (benchmark contract)
//   to-room       [room, msg]: "chat message" with msg to that room (benchmark contract)
// Bad input (non-text, too long, floods, oversized packets) only ever affects
// the client that sent it.
#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "sio/sio.hpp"

#include "roster.hpp"

#ifndef SIO_CHAT_PUBLIC_DIR
#define SIO_CHAT_PUBLIC_DIR "apps/chat/public"
#endif
#ifndef SIO_CHAT_CLIENT_BUNDLE
#define SIO_CHAT_CLIENT_BUNDLE "apps/chat/client/node_modules/socket.io-client/dist/socket.io.min.js"
#endif

namespace {

struct config : sio::app_config {
  std::string public_dir = SIO_CHAT_PUBLIC_DIR;
  std::string client_bundle = SIO_CHAT_CLIENT_BUNDLE;
  std::size_t max_message_chars = 2000;
  double flood_rate = 20;
  double flood_burst = 40;
  std::size_t roster_rate = chat::roster_options{}.packets_per_second;
  config() {
    max_http_buffer_size = 100000; // a chat message is small
    recovery_window = 2 * 60 * 1000; // a reconnecting user gets what was missed (Node's default window)
    allow_eio3 = true; // old socket.io-client 2.x pages can chat too (--allow-eio3=false: not)
    opt_group{custom_options_, "global"}
      .add(public_dir, "public-dir", "folder with index.html, style.css and chat.js")
      .add(client_bundle, "client-bundle", "socket.io-client's dist/socket.io.min.js")
      .add(max_message_chars, "max-message-chars", "longest chat message in characters")
      .add(flood_rate, "flood-rate", "chat messages per second one client may send")
      .add(flood_burst, "flood-burst", "chat messages one client may send at once")
      .add(roster_rate, "roster-rate", "roster packets per second this node may send to all its clients");
  }
};

bool readable(const std::string& path) {
  return static_cast<bool>(std::ifstream{path});
}

/// Unicode code points in a UTF-8 string (the JSON parser only lets valid UTF-8 in).
std::size_t utf8_length(const std::string& s) {
  return static_cast<std::size_t>(
    std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// Per-client flood limit: `rate` tokens per second, at most `burst` saved up.
class token_bucket {
public:
  token_bucket(double rate, double burst)
    : rate_(rate), burst_(burst), tokens_(burst), last_(std::chrono::steady_clock::now()) {}

  bool take() {
    auto now = std::chrono::steady_clock::now();
    tokens_ = std::min(burst_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
    if (tokens_ < 1.0)
      return false;
    tokens_ -= 1.0;
    return true;
  }

private:
  double rate_;
  double burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

sio::json notice(const std::string& kind, const std::string& text) {
  sio::json n = sio::json::object();
  n["kind"] = kind;
  n["text"] = text;
  return n;
}

// -- chat rooms: each one an actor that keeps its history -----------------------

/// "#" and 1 to 24 of [a-z0-9-]: what a user may join ("#lobby").
const std::regex chat_room_name{"^#[a-z0-9-]{1,24}$"};
constexpr std::size_t room_history_size = 50;

/// Runs in each chat room's actor on each node (sio/room.hpp): it keeps the
/// last 50 lines it saw (on every node: the lines that crossed to it) and
/// gives them to a joiner. Its state needs no lock: one actor, one room.
void setup_chat_room(sio::room& r) {
  auto history = std::make_shared<std::deque<sio::json>>();
  r.on_message([history](sio::room&, const sio::room_message& m) {
    if (m.event() != "room message" || m.args().size() < 2)
      return;
    history->push_back(m.args()[1]);
    if (history->size() > room_history_size)
      history->pop_front();
  });
  r.on_join([history](sio::room& r, const std::string& id) {
    sio::json lines = sio::json::array();
    for (auto& line : *history)
      lines.push_back(line);
    r.emit_to(id, "room history", r.name(), std::move(lines));
  });
}

// -- one connection -------------------------------------------------------------

struct chat_limits {
  std::size_t max_message_chars;
  double flood_rate;
  double flood_burst;
};

void on_connection(sio::socket& s, sio::namespace_handle nsp, caf::actor roster,
                   const sio::app& a, chat_limits limits) {
  bool in_worker = a.config().worker_socket >= 0;
  auto welcome = notice("welcome", "You are " + s.id() + "."
                                     + (in_worker ? " Served by worker pid "
                                                      + std::to_string(::getpid()) + "."
                                                  : std::string{}));
  welcome["id"] = s.id();
  welcome["maxMessageChars"] = limits.max_message_chars;
  welcome["floodRate"] = limits.flood_rate;
  welcome["floodBurst"] = limits.flood_burst;
  s.emit("notice", std::move(welcome));
  chat::roster_join(roster, s.id());
  s.on_disconnect([roster](sio::socket& s, const std::string&) {
    chat::roster_leave(roster, s.id());
  });

  // State of this socket only: its handlers run one at a time in its actor.
  auto bucket = std::make_shared<token_bucket>(limits.flood_rate, limits.flood_burst);
  // When this client was last told that it floods; at most one warning per 5 s.
  auto warned_at = std::make_shared<std::chrono::steady_clock::time_point>();

  // The text of a message this client may send now, or nullopt after
  // telling it why not (flood, not text, too long).
  auto accept_text = [limits, bucket, warned_at](sio::socket& s,
                                                const sio::json& arg) -> std::optional<std::string> {
    if (!bucket->take()) {
      auto now = std::chrono::steady_clock::now();
      if (now - *warned_at >= std::chrono::seconds{5}) { // once per flood, not per dropped message
        *warned_at = now;
        std::ostringstream text;
        text << "You are sending too fast (limit: " << limits.flood_rate << " messages/s, bursts of "
             << limits.flood_burst << "); messages are being dropped.";
        s.emit("notice", notice("warning", text.str()));
      }
      return std::nullopt;
    }
    if (!arg.is_string()) {
      s.emit("notice", notice("error", "Not sent: a chat message must be text."));
      return std::nullopt;
    }
    const auto& text = arg.get_ref<const std::string&>();
    auto length = utf8_length(text);
    if (length > limits.max_message_chars) {
      s.emit("notice", notice("error", "Not sent: the message has " + std::to_string(length)
                                         + " characters, the limit is "
                                         + std::to_string(limits.max_message_chars) + "."));
      return std::nullopt;
    }
    return text;
  };
  auto line_of = [&a](const sio::socket& s, const std::string& text) {
    return "port:" + std::to_string(a.port()) + " user:" + s.id() + " msg:" + text;
  };

  s.on("chat message", [nsp, accept_text, line_of](sio::socket& s, sio::event& e) {
    if (auto text = accept_text(s, e.args.empty() ? sio::json{} : e.args[0]))
      nsp.all(s.self()).emit("chat message", line_of(s, *text));
  });

  // Named chat rooms: (name) -> ack true, then "room history" (name, lines)
  // from the room's actor; "room message" (name, text) to its members as
  // "room message" (name, line).
  s.on("room join", [](sio::socket& s, sio::event& e) {
    bool ok = !e.args.empty() && e.args[0].is_string()
              && std::regex_match(e.args[0].get_ref<const std::string&>(), chat_room_name);
    if (ok)
      ok = s.join(e.args[0].get<std::string>());
    else
      s.emit("notice", notice("error", "A room name is # and 1 to 24 of a-z, 0-9 and -."));
    e.ack(sio::json::array({ok}));
  });
  s.on("room leave", [](sio::socket& s, sio::event& e) {
    if (!e.args.empty() && e.args[0].is_string() && e.args[0].get_ref<const std::string&>() != s.id())
      s.leave(e.args[0].get<std::string>());
    e.ack(sio::json::array({true}));
  });
  s.on("room message", [nsp, accept_text, line_of](sio::socket& s, sio::event& e) {
    if (e.args.size() < 2 || !e.args[0].is_string()
        || !std::regex_match(e.args[0].get_ref<const std::string&>(), chat_room_name)
        || !s.rooms().count(e.args[0].get<std::string>())) {
      s.emit("notice", notice("error", "Not sent: join the room first."));
      return;
    }
    if (auto text = accept_text(s, e.args[1])) {
      auto room = e.args[0].get<std::string>();
      nsp.all(s.self()).to(room).emit("room message", room, line_of(s, *text));
    }
  });

  // The benchmark contract.
  s.on("echo", [](sio::socket&, sio::event& e) { e.ack(e.args); });
  // Which process serves this client (--workers: which worker): {port, pid}.
  s.on("where", [&a](sio::socket&, sio::event& e) {
    e.ack(sio::json::array({sio::json{{"port", a.port()}, {"pid", ::getpid()}}}));
  });
  // Clients connected across the whole cluster (this node alone when single).
  s.on("online", [nsp](sio::socket& s, sio::event& e) {
    nsp.all(s.self()).fetch_sockets([ack = e.ack](std::vector<sio::remote_socket> sockets) {
      ack(sio::json::array({sockets.size()}));
    });
  });
  s.on("join", [](sio::socket& s, sio::event& e) {
    bool ok = !e.args.empty() && e.args[0].is_string() && !e.args[0].get_ref<const std::string&>().empty();
    if (ok)
      s.join(e.args[0].get<std::string>());
    e.ack(sio::json::array({ok}));
  });
  s.on("to-room", [nsp](sio::socket& s, sio::event& e) {
    // Either to-room(room, msg) or to-room([room, msg]).
    const sio::json& a = (e.args.size() == 1 && e.args[0].is_array()) ? e.args[0] : e.args;
    bool ok = a.size() >= 2 && a[0].is_string();
    if (!ok) {
      e.ack(sio::json::array({false}));
      return;
    }
    nsp.all(s.self()).to(a[0].get<std::string>()).emit("chat message", a[1]);
    e.ack(sio::json::array({true}));
  });
}

/// Serves the page and the chat on `a`; throws if the files are missing.
void start(sio::app& a, const config& cfg) {
  if (cfg.flood_rate <= 0 || cfg.flood_burst < 1)
    throw std::invalid_argument("--flood-rate must be > 0 and --flood-burst >= 1");
  if (cfg.roster_rate < 1)
    throw std::invalid_argument("--roster-rate must be >= 1");
  auto index = cfg.public_dir + "/index.html";
  if (!readable(index))
    throw std::runtime_error("cannot read " + index + " (set --public-dir)");
  if (!readable(cfg.client_bundle))
    throw std::runtime_error(
      "cannot read the browser client bundle " + cfg.client_bundle
      + "\n  it comes from npm: build with npm on the PATH (the build runs `npm ci` for "
        "apps/chat/package.json), run scripts/run-chat, or pass --client-bundle "
        "PATH/socket.io-client/dist/socket.io.min.js");

  auto& http = a.http();
  const std::string html = "text/html; charset=utf-8";
  const std::string js = "application/javascript; charset=utf-8";
  http.serve_file("/", index, html);
  http.serve_file("/index.html", index, html);
  http.serve_file("/style.css", cfg.public_dir + "/style.css", "text/css; charset=utf-8");
  http.serve_file("/chat.js", cfg.public_dir + "/chat.js", js);
  // Longer than "/socket.io/", so these win over the Socket.IO endpoint.
  http.serve_file("/socket.io/socket.io.js", cfg.client_bundle, js);
  http.serve_file("/socket.io/socket.io.min.js.map", cfg.client_bundle + ".map",
                  "application/json");

  auto nsp = a.io().of("/");
  chat::roster_options ro;
  ro.packets_per_second = cfg.roster_rate;
  ro.clustered = a.io().cluster_port() != 0;
  auto roster = chat::spawn_roster(a.system(), nsp, ro);
  a.on_stop([roster] { caf::anon_send_exit(roster, caf::exit_reason::user_shutdown); });
  chat_limits limits{cfg.max_message_chars, cfg.flood_rate, cfg.flood_burst};
  nsp.on_room(chat_room_name, setup_chat_room);
  nsp.on_connection([nsp, roster, &a, limits](sio::socket& s) {
    on_connection(s, nsp, roster, a, limits);
  });
}

} // namespace

int main(int argc, char** argv) {
  config cfg;
  sio::app_setup setup;
  setup.start = [&cfg](sio::app& a) { start(a, cfg); };
  setup.started = [&cfg](sio::app& a) {
    std::cout << "open http://" << (cfg.host == "0.0.0.0" ? std::string{"127.0.0.1"} : cfg.host)
              << ":" << a.port() << "/ in a browser (Ctrl-C stops)" << std::endl;
  };
  return sio::run_app(argc, argv, cfg, "sio-chat", std::move(setup));
}
