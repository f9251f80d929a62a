#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "cluster/messages.hpp"
#include "sio/cluster_options.hpp"

namespace sio {

namespace cluster {
void keep_caf_openssl_fixes(); // caf_openssl_fixes.cpp
} // namespace cluster

void configure_cluster(caf::actor_system_config& cfg, std::chrono::milliseconds heartbeat) {
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>(); // TLS cluster links (cluster_options.hpp)
  cluster::keep_caf_openssl_fixes();
  // Without heartbeats CAF 0.17 never notices a peer that died silently.
  cfg.set("middleman.heartbeat-interval", caf::timespan{heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{heartbeat * 6});
  // An unregistered type is no compile error: it arrives as an empty message.
  cfg.add_message_type<cluster::member_info>("sio_member_info");
  cfg.add_message_type<std::vector<cluster::member_info>>("sio_member_info_list");
  cfg.add_message_type<cluster::wire_packet>("sio_wire_packet");
  cfg.add_message_type<std::vector<cluster::wire_packet>>("sio_wire_packet_list");
  cfg.add_message_type<cluster::selection>("sio_selection");
  cfg.add_message_type<cluster::remote_broadcast>("sio_remote_broadcast");
  cfg.add_message_type<cluster::socket_info>("sio_socket_info");
  cfg.add_message_type<std::vector<cluster::socket_info>>("sio_socket_info_list");
  cfg.add_message_type<cluster::server_event>("sio_server_event");
  cfg.add_message_type<cluster::ack_broadcast>("sio_ack_broadcast");
  cfg.add_message_type<cluster::remote_session>("sio_remote_session");
  cfg.add_message_type<cluster::session_replica>("sio_session_replica");
}

} // namespace sio
