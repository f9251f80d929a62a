// Command-line helpers for apps built on CAF's option parser.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sio {

/// The arguments after argv[0], with "--name value" joined into
/// "--name=value" (CAF 0.17 accepts only the latter for long options).
/// Repeated options such as "--join a --join b" stay repeated.
std::vector<std::string> normalize_cli_args(int argc, char** argv);

/// Removes every "--name=value" from `args` and returns the values in order:
/// for options that may be repeated (CAF 0.17 has no repeated options).
std::vector<std::string> take_repeated_option(std::vector<std::string>& args,
                                              const std::string& name);

/// Splits "host:port"; false if malformed.
bool split_host_port(const std::string& address, std::string& host, std::uint16_t& port);

} // namespace sio
