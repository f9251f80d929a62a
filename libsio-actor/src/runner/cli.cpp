#include "sio/cli.hpp"

namespace sio {

std::vector<std::string> normalize_cli_args(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool long_option = arg.size() > 2 && arg.compare(0, 2, "--") == 0
                       && arg.find('=') == std::string::npos;
    if (long_option && i + 1 < argc && argv[i + 1][0] != '-') {
      out.push_back(arg + "=" + argv[i + 1]);
      ++i;
    } else {
      out.push_back(std::move(arg));
    }
  }
  return out;
}

std::vector<std::string> take_repeated_option(std::vector<std::string>& args,
                                              const std::string& name) {
  std::vector<std::string> values;
  auto prefix = "--" + name + "=";
  std::vector<std::string> rest;
  for (auto& arg : args) {
    if (arg.compare(0, prefix.size(), prefix) == 0)
      values.push_back(arg.substr(prefix.size()));
    else
      rest.push_back(std::move(arg));
  }
  args = std::move(rest);
  return values;
}

bool split_host_port(const std::string& address, std::string& host, std::uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return false;
  unsigned long value = 0;
  for (auto c : address.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535)
      return false;
  }
  host = address.substr(0, colon);
  port = static_cast<std::uint16_t>(value);
  return true;
}

} // namespace sio
