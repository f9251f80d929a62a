// Command-line helpers for apps built on CAF's option parser.
#pragma once

#include <string>
#include <vector>

namespace sio {

/// The arguments after argv[0], with "--name value" joined into
/// "--name=value" (CAF 0.17 accepts only the latter for long options).
/// Repeated options such as "--join a --join b" stay repeated.
std::vector<std::string> normalize_cli_args(int argc, char** argv);

} // namespace sio
