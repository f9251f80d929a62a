#include "util/msgpack.hpp"

namespace sio::util {

std::string to_bytes(const json& value) {
  std::string out;
  json::to_msgpack(value, nlohmann::detail::output_adapter<char>(out));
  return out;
}

json from_bytes(const std::string& bytes) {
  auto value = json::from_msgpack(bytes, true, false);
  return value.is_discarded() ? json() : value;
}

} // namespace sio::util
