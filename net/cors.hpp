#pragma once

// Cross-origin requests from browsers (a frontend on another origin than
// parley): the preflight answer and the header that lets a page read a
// response. parley takes no cookies, only tokens a page sends on purpose,
// so allowing an origin lends it no ambient authority.

#include <string>
#include <string_view>

#include "net/rest.hpp"

namespace parley::net {

// The Access-Control-Allow-Origin value for a request whose Origin header is
// `origin`, given PARLEY_CORS_ORIGINS `allowed` ("*", a comma-separated
// list, or "none"): "*", the origin itself, or "" (no header: not allowed,
// or not a cross-origin request).
std::string allowed_origin(std::string_view origin, std::string_view allowed);

// Whether `req` is a CORS preflight (OPTIONS with
// Access-Control-Request-Method).
bool is_preflight(const http_request& req);

// 204 with the methods and the headers the request asks for, when
// `allow_origin` is not empty; a plain 204 (which the browser refuses)
// otherwise.
http_response preflight_response(const http_request& req,
                                 std::string_view allow_origin);

} // namespace parley::net
