#include "sio/room_message.hpp"

#include <vector>

#include "engineio/atoms.hpp"
#include "engineio/packet.hpp"
#include "socketio/packet.hpp"

namespace sio {

namespace {

using packets = std::vector<engineio::packet_ptr>;

bool well_formed(const caf::message& m) {
  return m.match_elements<engineio::send_atom, packets, bool>();
}

} // namespace

const room_message::decoded& room_message::decode() const {
  if (decoded_)
    return *decoded_;
  auto out = std::make_shared<decoded>();
  if (well_formed(encoded_)) {
    // Our own encoding (socketio::make_event), not a client's: no limits.
    // The msgpack parser's packet is one binary message; the default one's
    // starts with text.
    auto& parts = encoded_.get_as<packets>(1);
    auto format = !parts.empty() && parts.front()->is_binary() ? wire_format::msgpack
                                                                : wire_format::json;
    socketio::decoder d{socketio::decoder_limits{1u << 20, 1 << 20, 0, 0}, format};
    auto st = socketio::decoder::status::error;
    for (auto& p : parts) {
      st = p->is_binary() ? d.feed_binary(p->data()) : d.feed_text(p->data());
    }
    if (st == socketio::decoder::status::complete) {
      auto pkt = d.take();
      if (pkt.data && pkt.data->is_array() && !pkt.data->empty()) {
        auto& data = *pkt.data;
        if (data[0].is_string())
          out->event = data[0].get<std::string>();
        for (std::size_t i = 1; i < data.size(); ++i)
          out->args.push_back(std::move(data[i]));
      }
    }
  }
  decoded_ = std::move(out);
  return *decoded_;
}

const std::string& room_message::event() const {
  return decode().event;
}

const json& room_message::args() const {
  return decode().args;
}

bool room_message::is_volatile() const {
  return well_formed(encoded_) && encoded_.get_as<bool>(2);
}

} // namespace sio
