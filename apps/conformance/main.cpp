// The app the official Engine.IO / Socket.IO protocol test suites run against
// (see docs/conformance.md): a bare Engine.IO echo at /engine.io/ and a
// Socket.IO server at /socket.io/.
#include <csignal>
#include <iostream>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "sio/sio.hpp"

namespace {

struct config : caf::actor_system_config {
  std::uint16_t port = 3000;
  std::string host = "127.0.0.1";
  // The suites need 300/200; load tests with many clients may ask for more.
  std::size_t ping_interval_ms = 300;
  std::size_t ping_timeout_ms = 200;
  std::size_t max_buffered_bytes = sio::engine_options{}.max_buffered_bytes;
  config() {
    opt_group{custom_options_, "global"}
      .add(port, "port,p", "listen port (0: any free port)")
      .add(host, "host", "bind address")
      .add(ping_interval_ms, "ping-interval", "Engine.IO pingInterval in ms (default 300)")
      .add(ping_timeout_ms, "ping-timeout", "Engine.IO pingTimeout in ms (default 200)")
      .add(max_buffered_bytes, "max-buffered", "bytes queued for one client before it is cut off as a slow consumer");
  }
};

sio::engine_options conformance_engine_options(const config& cfg, std::string path) {
  sio::engine_options opts;
  opts.path = std::move(path);
  opts.ping_interval = std::chrono::milliseconds{cfg.ping_interval_ms};
  opts.ping_timeout = std::chrono::milliseconds{cfg.ping_timeout_ms};
  opts.max_http_buffer_size = 1000000;
  opts.max_buffered_bytes = cfg.max_buffered_bytes;
  opts.cors.origins = {"*"};
  return opts;
}

void run(caf::actor_system& sys, const config& cfg) {
  sio::listen_options listen;
  listen.host = cfg.host;
  listen.port = cfg.port;
  sio::http_server http{sys, listen};

  // /engine.io/: every message goes back unchanged, text as text, binary as binary.
  sio::engine_handlers echo;
  echo.on_message = [](sio::engine_socket& s, std::string_view data, bool is_binary) {
    if (is_binary)
      s.send_binary(std::string{data});
    else
      s.send_text(data);
  };
  http.serve_engine(conformance_engine_options(cfg, "/engine.io/"), std::move(echo));

  // /socket.io/: namespaces "/" and "/custom"; every connection gets its auth
  // payload back as the event "auth".
  sio::server_options io_opts;
  io_opts.engine = conformance_engine_options(cfg, "/socket.io/");
  io_opts.connect_timeout = std::chrono::milliseconds{1000};
  sio::server io{sys, io_opts};
  auto send_auth = [](sio::socket& s) { s.emit("auth", s.handshake().auth); };
  io.of("/").on_connection([send_auth](sio::socket& s) {
    send_auth(s);
    s.on("message", [](sio::socket& s, sio::event& e) { s.emit_args("message-back", e.args); });
    s.on("message-with-ack", [](sio::socket&, sio::event& e) { e.ack(e.args); });
  });
  io.of("/custom").on_connection(send_auth);
  http.serve(io);

  auto port = http.start();
  std::cout << "sio-conformance listening on http://" << cfg.host << ":" << port << std::endl;
  sio::wait_for_shutdown_signal();
  http.stop();
}

} // namespace

int main(int argc, char** argv) {
  sio::block_shutdown_signals();
  config cfg;
  cfg.load<caf::io::middleman>();
  if (auto err = cfg.parse(sio::normalize_cli_args(argc, argv))) {
    std::cerr << "sio-conformance: " << cfg.render(err) << std::endl;
    return 1;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  caf::actor_system sys{cfg};
  run(sys, cfg);
  return 0;
}
