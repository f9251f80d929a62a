#include "net/static_file_route.hpp"

#include <fstream>
#include <sstream>

#include "util/url.hpp"

namespace sio::net {

static_file_route::static_file_route(std::string url_path, std::string file_path,
                                     std::string content_type)
  : url_path_(std::move(url_path)), file_path_(std::move(file_path)),
    content_type_(std::move(content_type)) {
}

void static_file_route::handle(const std::shared_ptr<http_connection>& conn, request req) {
  auto path = util::parse_target(req.target()).path;
  if (path != url_path_ || (req.method() != http::verb::get && req.method() != http::verb::head)) {
    conn->respond(make_response(http::status::not_found, "Not Found", "text/plain; charset=UTF-8",
                                req.version(), req.keep_alive()));
    return;
  }
  // Read on each request: files are small and edits show up without a restart.
  std::ifstream in{file_path_, std::ios::binary};
  if (!in) {
    conn->respond(make_response(http::status::not_found, "Not Found", "text/plain; charset=UTF-8",
                                req.version(), req.keep_alive()));
    return;
  }
  std::ostringstream body;
  body << in.rdbuf();
  auto res = make_response(http::status::ok, body.str(), content_type_, req.version(),
                           req.keep_alive());
  if (req.method() == http::verb::head)
    res.body().clear();
  conn->respond(std::move(res));
}

} // namespace sio::net
