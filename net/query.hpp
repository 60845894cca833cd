#pragma once

// Request targets: the path to route on and the query's parameters, shared by
// the REST routes and the WebSocket upgrade.

#include <optional>
#include <string>
#include <string_view>

namespace parley::net {

struct target_parts {
  std::string_view path;  // before '?', never percent-decoded
  std::string_view query; // after '?', without the fragment
};

// Splits a request target ("/ws/chat/?session_id=..").
target_parts split_target(std::string_view target);

// Decodes %XY escapes and '+' (a space, as in HTML forms). A '%' that starts
// no valid escape stays as it is, as browsers and Python's unquote leave it.
std::string percent_decode(std::string_view s);

// The decoded value of the first parameter named `key` in `query`
// ("a=1&b=2"); nullopt when absent. A key without '=' has the value "".
std::optional<std::string> query_param(std::string_view query,
                                       std::string_view key);

} // namespace parley::net
