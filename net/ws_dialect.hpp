#pragma once

// What makes a WebSocket speak one protocol: how engine events become frames,
// how a new connection joins its conversation, and what a client's message
// does. net/ws_session is the transport, the same for all of them.

#include <cstdint>
#include <functional>
#include <string>

#include "actors/event.hpp"

namespace parley {
class engine;
} // namespace parley

namespace parley::net {

struct ws_dialect {
  encoder encode;
  // A message from the client; returns the answer to send right away, if
  // any. `stopping`: the server is shutting down.
  frame_ptr (*on_message)(engine& eng, std::uint64_t conn, bool stopping,
                          bool text, std::string payload);
};

// Runs once the 101 is out and the connection `conn` is attached; returns
// a first frame to send, if any.
using ws_start = std::function<frame_ptr(engine& eng, std::uint64_t conn)>;

// The visitor chat (seed 002), joining the session of ?session_id= (or
// none yet).
extern const ws_dialect visitor_socket;
ws_start visitor_start(std::string session_id, std::string visitor_id);

// Seed 000's notifications, whole messages only or (?stream=1) with deltas.
// Clients only listen: what they send is ignored.
extern const ws_dialect notification_socket;
extern const ws_dialect notification_stream_socket;
ws_start notification_start(std::string conversation_id, std::string sub);

} // namespace parley::net
