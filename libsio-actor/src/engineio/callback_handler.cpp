#include "engineio/callback_handler.hpp"

namespace sio::engineio {

namespace {

class callback_socket final : public engine_socket {
public:
  explicit callback_socket(session_context& ctx) : ctx_(ctx) {}
  const std::string& id() const noexcept override { return ctx_.sid(); }
  const sio::handshake& handshake() const noexcept override { return ctx_.handshake(); }
  void send_text(std::string_view text) override {
    ctx_.write({std::make_shared<const packet>(packet::text(packet_type::message, text))});
  }
  void send_binary(std::string bytes) override {
    ctx_.write({std::make_shared<const packet>(packet::binary(std::move(bytes)))});
  }
  void close() override { ctx_.close_session("forced close"); }

private:
  session_context& ctx_;
};

class callback_handler final : public session_handler {
public:
  explicit callback_handler(std::shared_ptr<const engine_handlers> h) : h_(std::move(h)) {}

  void on_open(session_context& ctx) override {
    if (h_->on_open) {
      callback_socket s{ctx};
      h_->on_open(s);
    }
  }
  void on_message(session_context& ctx, const packet& p) override {
    if (h_->on_message) {
      callback_socket s{ctx};
      h_->on_message(s, p.data(), p.is_binary());
    }
  }
  void on_close(session_context& ctx, const std::string& reason) override {
    if (h_->on_close) {
      callback_socket s{ctx};
      h_->on_close(s, reason);
    }
  }

private:
  std::shared_ptr<const engine_handlers> h_;
};

} // namespace

handler_factory make_callback_handler_factory(engine_handlers handlers) {
  auto shared = std::make_shared<const engine_handlers>(std::move(handlers));
  return [shared] { return std::make_unique<callback_handler>(shared); };
}

} // namespace sio::engineio
