#include "socketio/json_parse.hpp"

#include <functional>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sio::socketio {

namespace {

using object_t = json::object_t;
// ordered_map is a std::vector of pairs; appending through the vector skips
// ordered_map's own duplicate scan.
using members_t = object_t::Container;

/// Objects up to this size find duplicates by scanning: cheaper than hashing.
constexpr std::size_t scan_limit = 16;

/// Indices of an object's members, hashed and compared by their keys (read
/// through the vector at each call, so growing the vector is harmless).
struct key_index {
  struct hash {
    const members_t* members;
    std::size_t* probes;
    std::size_t operator()(std::size_t i) const {
      ++*probes;
      return std::hash<std::string_view>{}((*members)[i].first);
    }
  };
  struct equal {
    const members_t* members;
    std::size_t* probes;
    bool operator()(std::size_t a, std::size_t b) const {
      ++*probes;
      return (*members)[a].first == (*members)[b].first;
    }
  };
  key_index(const members_t* m, std::size_t* probes)
    : set(16, hash{m, probes}, equal{m, probes}) {}
  std::unordered_set<std::size_t, hash, equal> set;
};

class linear_sax {
public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  linear_sax(json& root, const json_limits& limits, std::string& error, json_parse_stats& stats)
    : root_(root), limits_(limits), error_(error), stats_(stats) {}

  bool null() { return add(json{}); }
  bool boolean(bool v) { return add(json(v)); }
  bool number_integer(number_integer_t v) { return add(json(v)); }
  bool number_unsigned(number_unsigned_t v) { return add(json(v)); }
  bool number_float(number_float_t v, const string_t&) { return add(json(v)); }
  bool string(string_t& v) { return add(json(std::move(v))); }
  bool binary(binary_t& v) {
    // MessagePack extensions arrive as binary with a subtype: not bytes a
    // client sent (see parse_msgpack).
    if (v.has_subtype())
      return add(json{});
    return add(json::binary(std::move(v)));
  }

  bool start_object(std::size_t) {
    json* slot = place(json(json::value_t::object));
    if (!slot)
      return false;
    frames_.push_back(frame{slot, nullptr});
    return true;
  }

  bool key(string_t& k) {
    auto& f = frames_.back();
    auto& members = static_cast<members_t&>(f.container->get_ref<object_t&>());
    // The key goes in now with a null value; place() fills it (or the
    // earlier member with the same key, which keeps its position).
    members.emplace_back(std::move(k), nullptr);
    auto added = members.size() - 1;
    std::optional<std::size_t> earlier;
    if (!f.index && members.size() <= scan_limit) {
      for (std::size_t i = 0; i < added; ++i) {
        ++stats_.key_probes;
        if (members[i].first == members[added].first) {
          earlier = i;
          break;
        }
      }
    } else {
      if (!f.index) {
        f.index = std::make_unique<key_index>(&members, &stats_.key_probes);
        for (std::size_t i = 0; i < added; ++i)
          f.index->set.insert(i); // unique so far: the scan kept them so
      }
      auto [it, inserted] = f.index->set.insert(added);
      if (!inserted)
        earlier = *it;
    }
    if (earlier) {
      members.pop_back();
      members[*earlier].second = nullptr; // the last value wins, as in JSON.parse
      next_ = &members[*earlier].second;
      return true;
    }
    if (limits_.max_object_members != 0 && members.size() > limits_.max_object_members)
      return fail("JSON object with more than " + std::to_string(limits_.max_object_members)
                  + " members");
    next_ = &members.back().second;
    return true;
  }

  bool end_object() {
    frames_.pop_back();
    return true;
  }

  bool start_array(std::size_t) {
    json* slot = place(json(json::value_t::array));
    if (!slot)
      return false;
    frames_.push_back(frame{slot, nullptr});
    return true;
  }

  bool end_array() {
    frames_.pop_back();
    return true;
  }

  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& ex) {
    if (error_.empty())
      error_ = ex.what();
    return false;
  }

private:
  struct frame {
    json* container;
    std::unique_ptr<key_index> index; // objects past scan_limit only
  };

  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }

  /// Puts `v` where the next value goes: the root, after a key, or at the
  /// end of the current array. Null if a limit is exceeded.
  json* place(json v) {
    if (limits_.max_values != 0 && stats_.values >= limits_.max_values) {
      fail("JSON with more than " + std::to_string(limits_.max_values) + " values");
      return nullptr;
    }
    ++stats_.values;
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json* container = frames_.back().container;
    if (container->is_object()) {
      *next_ = std::move(v);
      return std::exchange(next_, nullptr);
    }
    auto& array = container->get_ref<json::array_t&>();
    array.push_back(std::move(v));
    return &array.back();
  }

  bool add(json v) { return place(std::move(v)) != nullptr; }

  json& root_;
  const json_limits& limits_;
  std::string& error_;
  json_parse_stats& stats_;
  std::vector<frame> frames_;
  json* next_ = nullptr; // the member value the next value fills
};

int hex4(std::string_view s, std::size_t at) {
  if (at + 4 > s.size())
    return -1;
  int v = 0;
  for (std::size_t i = at; i < at + 4; ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

} // namespace

std::optional<std::string> replace_lone_surrogates(std::string_view text) {
  std::optional<std::string> out;
  std::size_t copied = 0; // text[0, copied) is in *out already
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      in_string = !in_string;
      continue;
    }
    if (!in_string || c != '\\' || i + 1 >= text.size())
      continue;
    if (text[i + 1] != 'u') {
      ++i; // an escaped character, maybe a quote or a backslash
      continue;
    }
    int v = hex4(text, i + 2);
    bool high = v >= 0xD800 && v <= 0xDBFF;
    bool low = v >= 0xDC00 && v <= 0xDFFF;
    if (high && i + 11 < text.size() && text[i + 6] == '\\' && text[i + 7] == 'u') {
      int next = hex4(text, i + 8);
      if (next >= 0xDC00 && next <= 0xDFFF) {
        i += 11; // a valid pair
        continue;
      }
    }
    if (high || low) {
      if (!out)
        out.emplace();
      out->append(text.substr(copied, i - copied)).append("\\ufffd");
      copied = i + 6;
    }
    i += 5;
  }
  if (out)
    out->append(text.substr(copied));
  return out;
}

namespace {

/// The linear SAX parser over `input` in `format`; `what` names the format in
/// errors ("JSON", "MessagePack").
std::optional<json> parse_with(std::string_view input, json::input_format_t format,
                               const std::string& what, const json_limits& limits,
                               std::string& error, json_parse_stats* stats) {
  error.clear();
  json_parse_stats local;
  auto& st = stats ? *stats : local;
  st = {};
  try {
    json root;
    linear_sax sax{root, limits, error, st};
    if (!json::sax_parse(input.begin(), input.end(), &sax, format, true)) {
      if (error.empty())
        error = "invalid " + what;
      return std::nullopt;
    }
    return std::optional<json>{std::move(root)};
  } catch (const std::exception& e) {
    error = "invalid " + what + ": " + e.what();
  } catch (...) {
    error = "invalid " + what;
  }
  return std::nullopt;
}

} // namespace

std::optional<json> parse_msgpack(std::string_view bytes, const json_limits& limits,
                                  std::string& error, json_parse_stats* stats) {
  return parse_with(bytes, json::input_format_t::msgpack, "MessagePack", limits, error, stats);
}

std::optional<json> parse_json(std::string_view text, const json_limits& limits,
                               std::string& error, json_parse_stats* stats) {
  // JSON.parse keeps a lone UTF-16 surrogate ("\ud83d", half an emoji cut by
  // slice()); UTF-8 has no form for it and nlohmann refuses it: U+FFFD instead.
  std::optional<std::string> repaired;
  try {
    repaired = replace_lone_surrogates(text);
  } catch (...) {
    error = "invalid JSON";
    return std::nullopt;
  }
  if (repaired)
    text = *repaired;
  return parse_with(text, json::input_format_t::json, "JSON", limits, error, stats);
}

} // namespace sio::socketio
