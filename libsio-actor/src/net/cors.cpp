#include "net/cors.hpp"

#include <algorithm>

namespace sio::net {

void apply_cors(const cors_options& cors, const request& req, response& res) {
  if (cors.origins.empty())
    return;
  auto origin = std::string{req[http::field::origin]};
  bool any = std::find(cors.origins.begin(), cors.origins.end(), "*") != cors.origins.end();
  if (any && !cors.credentials) {
    res.set(http::field::access_control_allow_origin, "*");
  } else if (!origin.empty()
             && (any
                 || std::find(cors.origins.begin(), cors.origins.end(), origin)
                      != cors.origins.end())) {
    // With credentials a browser refuses "*": echo the origin instead.
    res.set(http::field::access_control_allow_origin, origin);
    res.set(http::field::vary, "Origin");
  } else {
    return;
  }
  if (cors.credentials)
    res.set(http::field::access_control_allow_credentials, "true");
}

response make_preflight_response(const cors_options& cors, const request& req) {
  response res{http::status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  apply_cors(cors, req, res);
  if (!cors.origins.empty()) {
    res.set(http::field::access_control_allow_methods, "GET,HEAD,PUT,PATCH,POST,DELETE");
    auto wanted = req[http::field::access_control_request_headers];
    if (!wanted.empty()) {
      res.set(http::field::access_control_allow_headers, wanted);
      res.set(http::field::vary, "Access-Control-Request-Headers");
    }
  }
  res.content_length(0);
  return res;
}

} // namespace sio::net
