// The request-head reading of the --workers primary (sid_of_request_head) and
// the URL helpers under it (parse_target, percent_decode).
// Input: any bytes, read as a request head, as a target and as an escaped string.
// Checks: no crash or UB (timeouts catch anything superlinear); the sid agrees
// with parsing the request line's target by hand; percent_decode never grows
// its input and undoes a full percent-encoding; parse_target's path and query
// agree with percent_decode of the raw pieces.
#include "fuzz_check.hpp"
#include "net/request_head.hpp"
#include "util/url.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace sio::net;

namespace {

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// The request line's target, found independently of request_head.cpp:
// "METHOD SP target SP version" on the first line.
std::string_view target_of(std::string_view head, bool& found) {
  auto line = head.substr(0, head.find("\r\n"));
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  found = sp2 != std::string_view::npos;
  return found ? line.substr(sp1 + 1, sp2 - sp1 - 1) : std::string_view{};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};

  auto sid = sid_of_request_head(input);
  bool found = false;
  auto raw_target = target_of(input, found);
  if (!found) {
    FUZZ_CHECK(sid.empty());
  } else {
    auto t = sio::util::parse_target(raw_target);
    auto it = t.query.find("sid");
    FUZZ_CHECK(sid == (it == t.query.end() ? std::string{} : it->second));
  }

  auto decoded = sio::util::percent_decode(input);
  FUZZ_CHECK(decoded.size() <= input.size());
  if (input.find_first_of("%+") == std::string_view::npos)
    FUZZ_CHECK(decoded == input);
  FUZZ_CHECK(sio::util::percent_decode(percent_encode(input)) == input);

  auto t = sio::util::parse_target(input);
  auto q = input.find('?');
  FUZZ_CHECK(t.path == sio::util::percent_decode(input.substr(0, q)));
  if (q == std::string_view::npos) {
    FUZZ_CHECK(t.query.empty());
  } else {
    // Every decoded key came from some '&'-separated pair before any '#'.
    auto query = input.substr(q + 1);
    query = query.substr(0, query.find('#'));
    for (const auto& [key, value] : t.query) {
      FUZZ_CHECK(key.size() <= query.size() && value.size() <= query.size());
      FUZZ_CHECK(!key.empty() || query.find('=') != std::string_view::npos);
    }
  }
  return 0;
}
