#include "net/request_head.hpp"

#include "util/url.hpp"

namespace sio::net {

std::string sid_of_request_head(std::string_view head) {
  auto line = head.substr(0, head.find("\r\n"));
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos)
    return {};
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos)
    return {};
  auto target = util::parse_target(line.substr(sp1 + 1, sp2 - sp1 - 1));
  auto i = target.query.find("sid");
  return i == target.query.end() ? std::string{} : i->second;
}

} // namespace sio::net
