// The certificates that admit a node to the cluster (mutual TLS, docs/security.md).
#pragma once

#include <optional>
#include <string>

#include <caf/fwd.hpp>

namespace sio::cluster {

/// Why the TLS credentials in `cfg` (openssl.certificate / key / cafile) cannot
/// admit this node to a cluster: a missing option, an unreadable file, a key
/// that does not match the certificate, or a certificate the CA did not sign.
/// Empty when they can. Checked at start-up, because CAF reads the files again
/// for every connection and throws on a failure there.
std::optional<std::string> credentials_problem(const caf::actor_system_config& cfg);

} // namespace sio::cluster
