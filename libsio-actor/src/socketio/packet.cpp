// Socket.IO v5 packet codec, matching Node's socket.io-parser v4.2.
#include "socketio/packet.hpp"

#include "socketio/json_parse.hpp"
#include "socketio/msgpack_scan.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <utility>

namespace sio::socketio {

namespace {

// Event names with a special meaning on either side (socket.io-parser).
constexpr std::array<std::string_view, 6> reserved_events = {
  "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

bool has_binary(const json& v) {
  if (v.is_binary())
    return true;
  if (v.is_array() || v.is_object()) {
    for (const auto& child : v)
      if (has_binary(child))
        return true;
  }
  return false;
}

// Copies `from`'s members into the empty object `out`, each value mapped by
// `f`. The keys are unique already, so they are appended: out[key] would scan
// for a duplicate each time (ordered_map), quadratic in the member count.
template <class F>
void append_members(json& out, const json& from, F f) {
  auto& members = static_cast<json::object_t::Container&>(out.get_ref<json::object_t&>());
  members.reserve(from.size());
  for (auto it = from.begin(); it != from.end(); ++it)
    members.emplace_back(it.key(), f(it.value()));
}

// Replaces binary values by numbered placeholders, depth-first, collecting
// the bytes in the same order (socket.io-parser's deconstructPacket).
json deconstruct(const json& v, std::vector<std::string>& attachments) {
  if (v.is_binary()) {
    const auto& bytes = v.get_binary();
    json placeholder = json::object();
    placeholder["_placeholder"] = true;
    placeholder["num"] = attachments.size();
    attachments.emplace_back(bytes.begin(), bytes.end());
    return placeholder;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& child : v)
      out.push_back(deconstruct(child, attachments));
    return out;
  }
  if (v.is_object()) {
    json out = json::object();
    append_members(out, v, [&](const json& child) { return deconstruct(child, attachments); });
    return out;
  }
  return v;
}

// JSON.stringify writes a Buffer as {"type":"Buffer","data":[...]}; only
// reached for binary data in packets that cannot carry attachments.
json binary_as_buffer_json(const json& v) {
  if (v.is_binary()) {
    json bytes = json::array();
    for (auto b : v.get_binary())
      bytes.push_back(b);
    json out = json::object();
    out["type"] = "Buffer";
    out["data"] = std::move(bytes);
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& child : v)
      out.push_back(binary_as_buffer_json(child));
    return out;
  }
  if (v.is_object()) {
    json out = json::object();
    append_members(out, v, [](const json& child) { return binary_as_buffer_json(child); });
    return out;
  }
  return v;
}

// Refuses nesting deeper than max_depth without building anything, so a
// hostile "[[[[..." cannot cost more than one linear scan.
bool depth_within(std::string_view text, int max_depth) noexcept {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i; // skip the escaped character, which may be a quote
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth)
          return false;
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return true;
}

enum class replace_result { ok, bad_placeholder };

// Puts the attachments back in place of their placeholders
// (socket.io-parser's reconstructPacket). Node shares one Buffer among
// placeholders that repeat a number; we copy it, so the copies may add up to
// `budget` bytes (what the client sent): otherwise one 1 MB attachment named by
// 30,000 placeholders would cost 30 GB.
replace_result reconstruct(json& v, const std::vector<std::string>& attachments,
                           std::size_t& budget) {
  if (v.is_object()) {
    auto it = v.find("_placeholder");
    if (it != v.end() && it->is_boolean() && it->get<bool>()) {
      auto num = v.find("num");
      if (num == v.end() || !num->is_number_integer())
        return replace_result::bad_placeholder;
      // Negative numbers are stored as number_integer, so check the sign
      // before converting to an index.
      auto index = num->get<std::int64_t>();
      if (index < 0 || static_cast<std::uint64_t>(index) >= attachments.size())
        return replace_result::bad_placeholder;
      const auto& bytes = attachments[static_cast<std::size_t>(index)];
      if (bytes.size() > budget)
        return replace_result::bad_placeholder;
      budget -= bytes.size();
      v = json::binary(json::binary_t::container_type(bytes.begin(), bytes.end()));
      return replace_result::ok;
    }
  }
  if (v.is_object() || v.is_array()) {
    for (auto& child : v)
      if (reconstruct(child, attachments, budget) != replace_result::ok)
        return replace_result::bad_placeholder;
  }
  return replace_result::ok;
}

// Parses an unsigned decimal number made only of digits; nullopt on overflow
// or on an empty/non-digit input.
std::optional<std::uint64_t> parse_u64(std::string_view digits) noexcept {
  if (digits.empty())
    return std::nullopt;
  std::uint64_t value = 0;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  for (char c : digits) {
    if (!is_digit(c))
      return std::nullopt;
    auto d = static_cast<std::uint64_t>(c - '0');
    if (value > (max - d) / 10)
      return std::nullopt;
    value = value * 10 + d;
  }
  return value;
}

} // namespace

std::string dump_json(const json& value) {
  try {
    // ensure_ascii=false keeps non-ASCII as raw UTF-8, as JSON.stringify does;
    // replace turns invalid UTF-8 into U+FFFD instead of throwing.
    if (has_binary(value))
      return binary_as_buffer_json(value).dump(-1, ' ', false, json::error_handler_t::replace);
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (...) {
    return "null";
  }
}

encoded_packet encode(const packet& p) {
  encoded_packet out;
  auto type = p.type;
  std::optional<json> data_storage;
  const json* data = p.data && !p.data->is_null() ? &*p.data : nullptr;
  // A BINARY_* type without binary data would announce zero attachments,
  // which socket.io-parser rejects: send it as a plain EVENT/ACK instead.
  if (type == packet_type::binary_event)
    type = packet_type::event;
  else if (type == packet_type::binary_ack)
    type = packet_type::ack;
  if ((type == packet_type::event || type == packet_type::ack) && data && has_binary(*data)) {
    type = type == packet_type::event ? packet_type::binary_event : packet_type::binary_ack;
    data_storage = deconstruct(*data, out.attachments);
    data = &*data_storage;
  }
  auto& s = out.text;
  s += std::to_string(static_cast<int>(type));
  if (type == packet_type::binary_event || type == packet_type::binary_ack) {
    s += std::to_string(out.attachments.size());
    s += '-';
  }
  if (!p.nsp.empty() && p.nsp != "/") {
    s += p.nsp;
    s += ',';
  }
  if (p.id)
    s += std::to_string(*p.id);
  if (data)
    s += dump_json(*data);
  return out;
}

std::string encode_msgpack(const packet& p) {
  auto type = p.type == packet_type::binary_event ? packet_type::event
              : p.type == packet_type::binary_ack ? packet_type::ack
                                                  : p.type;
  const json* data = p.data && !p.data->is_null() ? &*p.data : nullptr;
  std::string out;
  auto key = [&out](std::string_view k) { // a fixstr: every key here is short
    out.push_back(static_cast<char>(0xa0 | k.size()));
    out.append(k);
  };
  out.push_back(static_cast<char>(0x80 | (2 + (data ? 1 : 0) + (p.id ? 1 : 0)))); // fixmap
  key("type");
  out.push_back(static_cast<char>(type)); // a positive fixint
  key("nsp");
  json::to_msgpack(json(p.nsp), out);
  if (data) {
    key("data");
    json::to_msgpack(*data, out);
  }
  if (p.id) {
    key("id");
    json::to_msgpack(json(*p.id), out);
  }
  return out;
}

bool is_payload_valid(packet_type type, const json& payload) {
  switch (type) {
    case packet_type::connect:
      return payload.is_object();
    case packet_type::disconnect:
      return false; // any payload at all is invalid
    case packet_type::connect_error:
      return payload.is_string() || payload.is_object();
    case packet_type::event:
    case packet_type::binary_event: {
      if (!payload.is_array() || payload.empty())
        return false;
      const auto& name = payload[0];
      if (name.is_number())
        return true;
      if (!name.is_string())
        return false;
      const auto& str = name.get_ref<const std::string&>();
      return std::find(reserved_events.begin(), reserved_events.end(), str)
             == reserved_events.end();
    }
    case packet_type::ack:
    case packet_type::binary_ack:
      return payload.is_array();
  }
  return false;
}

decoder::status decoder::fail(std::string reason) {
  pending_.reset();
  expected_attachments_ = 0;
  attachments_.clear();
  ready_.reset();
  error_ = std::move(reason);
  return status::error;
}

decoder::status decoder::feed_text(std::string_view text) {
  try {
    if (format_ == wire_format::msgpack)
      return fail("a text packet, but this server speaks the msgpack parser");
    if (pending_)
      return fail("got text data while reconstructing a binary packet");
    ready_.reset();
    if (text.empty())
      return fail("empty packet");
    if (text[0] < '0' || text[0] > '6')
      return fail("unknown packet type");
    packet p;
    p.type = static_cast<packet_type>(text[0] - '0');
    std::size_t pos = 1;
    std::size_t attachments = 0;
    bool binary = p.type == packet_type::binary_event || p.type == packet_type::binary_ack;
    if (binary) {
      auto dash = text.find('-', pos);
      if (dash == std::string_view::npos)
        return fail("illegal attachments");
      auto count = parse_u64(text.substr(pos, dash - pos));
      if (!count || *count < 1)
        return fail("illegal attachments");
      if (*count > limits_.max_attachments)
        return fail("too many attachments");
      attachments = static_cast<std::size_t>(*count);
      pos = dash + 1;
    }
    if (pos < text.size() && text[pos] == '/') {
      // The namespace runs up to ',' or the end (Node does not require the comma).
      auto comma = text.find(',', pos);
      if (comma == std::string_view::npos) {
        p.nsp = std::string{text.substr(pos)};
        pos = text.size();
      } else {
        p.nsp = std::string{text.substr(pos, comma - pos)};
        pos = comma + 1;
      }
    }
    auto id_end = pos;
    while (id_end < text.size() && is_digit(text[id_end]))
      ++id_end;
    if (id_end > pos) {
      auto id = parse_u64(text.substr(pos, id_end - pos));
      if (!id)
        return fail("invalid ack id");
      p.id = *id;
      pos = id_end;
    }
    auto rest = text.substr(pos);
    if (!rest.empty()) {
      if (!depth_within(rest, limits_.max_depth))
        return fail("payload nested too deeply");
      std::string why;
      auto payload = parse_json(rest, json_limits{limits_.max_object_members, limits_.max_values},
                                why);
      if (!payload)
        return fail("invalid JSON payload: " + why);
      if (!is_payload_valid(p.type, *payload))
        return fail("invalid payload");
      p.data = std::move(payload);
    }
    if (!binary) {
      ready_ = std::move(p);
      return status::complete;
    }
    // As in Node, the reassembled packet is a plain EVENT/ACK whose data
    // holds binary values.
    p.type = p.type == packet_type::binary_event ? packet_type::event : packet_type::ack;
    pending_ = std::move(p);
    expected_attachments_ = attachments;
    attachments_.clear();
    attachments_.reserve(attachments);
    return status::need_binary;
  } catch (...) {
    return fail("internal error while decoding");
  }
}

decoder::status decoder::feed_msgpack(std::string_view bytes) {
  // What socket.io-msgpack-parser's Decoder accepts (checkPacket).
  ready_.reset();
  std::string why;
  if (!msgpack_shape_ok(bytes, limits_.max_depth + 1, why)) // +1: the packet's own map
    return fail(why);
  auto decoded = parse_msgpack(bytes, json_limits{limits_.max_object_members, limits_.max_values}, why);
  if (!decoded)
    return fail(why);
  if (!decoded->is_object())
    return fail("a msgpack packet must be a map");
  auto field = [&](const char* name) -> json* {
    auto it = decoded->find(name);
    return it == decoded->end() || it->is_null() ? nullptr : &*it;
  };
  auto* type = field("type");
  if (!type || !type->is_number_integer() || type->get<std::int64_t>() < 0
      || type->get<std::int64_t>() > static_cast<int>(packet_type::connect_error))
    return fail("invalid packet type");
  auto* nsp = field("nsp");
  if (!nsp || !nsp->is_string())
    return fail("invalid namespace");
  packet p;
  p.type = static_cast<packet_type>(type->get<int>());
  p.nsp = nsp->get<std::string>();
  if (auto* id = field("id")) {
    if (!id->is_number_unsigned() && !(id->is_number_integer() && id->get<std::int64_t>() >= 0))
      return fail("invalid packet id");
    p.id = id->get<std::uint64_t>();
  }
  if (auto* data = field("data")) {
    if (p.type == packet_type::disconnect || !is_payload_valid(p.type, *data))
      return fail("invalid payload");
    p.data = std::move(*data); // found once: ordered_json's lookup is a scan
  } else if (p.type != packet_type::connect && p.type != packet_type::disconnect) {
    return fail("invalid payload");
  }
  ready_ = std::move(p);
  return status::complete;
}

decoder::status decoder::feed_binary(std::string_view bytes) {
  try {
    if (format_ == wire_format::msgpack)
      return feed_msgpack(bytes);
    if (!pending_)
      return fail("got binary data when not reconstructing a packet");
    attachments_.emplace_back(bytes);
    if (attachments_.size() < expected_attachments_)
      return status::need_binary;
    std::size_t budget = 0;
    for (const auto& a : attachments_)
      budget += a.size();
    if (pending_->data && reconstruct(*pending_->data, attachments_, budget) != replace_result::ok)
      return fail("illegal attachments");
    ready_ = std::move(pending_);
    pending_.reset();
    expected_attachments_ = 0;
    attachments_.clear();
    return status::complete;
  } catch (...) {
    return fail("internal error while decoding");
  }
}

packet decoder::take() {
  packet out;
  if (ready_) {
    out = std::move(*ready_);
    ready_.reset();
  }
  return out;
}

} // namespace sio::socketio
