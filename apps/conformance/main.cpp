// The app the official Engine.IO / Socket.IO protocol test suites run against
// (see docs/conformance.md): a bare Engine.IO echo at /engine.io/ and a
// Socket.IO server at /socket.io/.
#include "sio/sio.hpp"

namespace {

struct config : sio::app_config {
  std::size_t max_buffered_bytes = sio::engine_options{}.max_buffered_bytes;
  config() {
    // The suites need a 300/200 ms heartbeat; load tests may ask for more.
    ping_interval = 300;
    ping_timeout = 200;
    connect_timeout = 1000;
    opt_group{custom_options_, "global"}.add(
      max_buffered_bytes, "max-buffered",
      "bytes queued for one client before it is cut off as a slow consumer");
  }
};

/// The engine options of both endpoints: the command line's, at `path`, with
/// the limits and CORS the suites expect.
sio::engine_options conformance_engine_options(sio::engine_options opts, const config& cfg,
                                               std::string path) {
  opts.path = std::move(path);
  opts.max_http_buffer_size = 1000000;
  opts.max_buffered_bytes = cfg.max_buffered_bytes;
  opts.cors.origins = {"*"};
  return opts;
}

} // namespace

int main(int argc, char** argv) {
  config cfg;
  sio::app_setup setup;
  setup.options = [&cfg](sio::listen_options&, sio::server_options& io) {
    io.engine = conformance_engine_options(io.engine, cfg, "/socket.io/");
  };
  setup.start = [&cfg](sio::app& a) {
    // /engine.io/: every message goes back unchanged, text as text, binary as binary.
    sio::engine_handlers echo;
    echo.on_message = [](sio::engine_socket& s, std::string_view data, bool is_binary) {
      if (is_binary)
        s.send_binary(std::string{data});
      else
        s.send_text(data);
    };
    a.http().serve_engine(
      conformance_engine_options(a.io().options().engine, cfg, "/engine.io/"), std::move(echo));

    // /socket.io/: namespaces "/" and "/custom"; every connection gets its
    // auth payload back as the event "auth".
    auto send_auth = [](sio::socket& s) { s.emit("auth", s.handshake().auth); };
    a.io().of("/").on_connection([send_auth](sio::socket& s) {
      send_auth(s);
      s.on("message", [](sio::socket& s, sio::event& e) { s.emit_args("message-back", e.args); });
      s.on("message-with-ack", [](sio::socket&, sio::event& e) { e.ack(e.args); });
    });
    a.io().of("/custom").on_connection(send_auth);
  };
  return sio::run_app(argc, argv, cfg, "sio-conformance", std::move(setup));
}
