#include "socketio/wire.hpp"

namespace sio::socketio {

std::vector<engineio::packet_ptr> to_engine_packets(wire_format format, const packet& p) {
  if (format == wire_format::msgpack)
    return {std::make_shared<const engineio::packet>(engineio::packet::binary(encode_msgpack(p)))};
  auto encoded = encode(p);
  std::vector<engineio::packet_ptr> out;
  out.reserve(1 + encoded.attachments.size());
  out.push_back(std::make_shared<const engineio::packet>(
    engineio::packet::text(engineio::packet_type::message, encoded.text)));
  for (auto& a : encoded.attachments)
    out.push_back(std::make_shared<const engineio::packet>(engineio::packet::binary(std::move(a))));
  return out;
}

std::vector<engineio::packet_ptr> make_event(wire_format format, const std::string& nsp,
                                             const std::string& event, const json& args,
                                             std::optional<std::uint64_t> ack_id) {
  packet p;
  p.type = packet_type::event;
  p.nsp = nsp;
  p.id = ack_id;
  json data = json::array();
  data.push_back(event);
  if (args.is_array())
    for (auto& a : args)
      data.push_back(a);
  else if (!args.is_null())
    data.push_back(args);
  p.data = std::move(data);
  return to_engine_packets(format, p);
}

} // namespace sio::socketio
