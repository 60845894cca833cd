#pragma once

// The server's half of the WebSocket opening handshake (RFC 6455, 4.2).

#include <string>

#include "net/rest.hpp"

namespace parley::net::ws {

struct handshake {
  bool ok = false;
  // ok: the 101 response to write as it is; else an HTTP error response
  // (400 without a usable key, 426 for another protocol version).
  std::string response;
};

handshake accept(const http_request& req);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key.
std::string accept_key(std::string_view key);

} // namespace parley::net::ws
