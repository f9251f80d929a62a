// Serves one file from disk at a fixed URL (e.g. the chat page, the client bundle).
#pragma once

#include <string>

#include "net/http_connection.hpp"

namespace sio::net {

class static_file_route final : public http_route {
public:
  static_file_route(std::string url_path, std::string file_path, std::string content_type);
  void handle(const std::shared_ptr<http_connection>& conn, request req) override;

private:
  std::string url_path_;
  std::string file_path_;
  std::string content_type_;
};

} // namespace sio::net
