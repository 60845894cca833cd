#include "net/cors.hpp"

#include "net/ascii.hpp"
#include "net/asio.hpp"

namespace parley::net {

std::string allowed_origin(std::string_view origin, std::string_view allowed) {
  if (origin.empty() || trim(allowed) == "none")
    return {};
  if (trim(allowed) == "*")
    return "*";
  while (!allowed.empty()) {
    auto comma = allowed.find(',');
    if (trim(allowed.substr(0, comma)) == origin)
      return std::string{origin};
    if (comma == std::string_view::npos)
      break;
    allowed.remove_prefix(comma + 1);
  }
  return {};
}

bool is_preflight(const http_request& req) {
  return req.method() == http::verb::options
         && req.find("Access-Control-Request-Method") != req.end();
}

http_response preflight_response(const http_request& req,
                                 std::string_view allow_origin) {
  http_response res{http::status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  if (allow_origin.empty())
    return res;
  res.set(http::field::access_control_allow_origin, allow_origin);
  res.set(http::field::access_control_allow_methods,
          "GET, POST, DELETE, OPTIONS");
  // What the page asks to send (Authorization, Content-Type,
  // Last-Event-ID...): the values are names, not trusted for anything.
  auto asked = req["Access-Control-Request-Headers"];
  res.set(http::field::access_control_allow_headers,
          asked.empty() ? std::string_view{"Authorization, Content-Type"}
                        : asked);
  res.set(http::field::access_control_max_age, "600");
  if (allow_origin != "*")
    res.set(http::field::vary, "Origin");
  return res;
}

} // namespace parley::net
