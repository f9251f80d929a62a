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

} // namespace sio
