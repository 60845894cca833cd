#pragma once

// The visitor chat wire format of seed 002 (CONTRACT.md, "Visitor chat
// frames (002), exactly"): engine events to JSON text frames, and inbound
// text frames to commands. Pure functions, no sockets.

#include <string>
#include <string_view>

#include "actors/event.hpp"

namespace parley::net {

// Encodes an event as a seed-002 frame (matches parley::encoder). The type
// comes first; fields that are empty are left out, except that `done` and
// `complete` are always present, and `chunk` (chunk frames), `message`
// (complete frames) and `error` (error frames) always are too. Stored-message
// events (seed 000) have no visitor frame: null.
frame_ptr encode_visitor(const event& ev);

// The answer to {"type":"ping"}: {"type":"pong","done":false,
// "complete":false}. Not in the seed; a keep-alive some clients send.
frame_ptr visitor_pong();

// What an inbound text frame asks for.
struct visitor_command {
  enum class kind_type { chat_message, ping, invalid };
  kind_type kind = kind_type::invalid;
  std::string message;    // chat_message: the visitor's text, as sent
  std::string session_id; // a UUID, lowercase; also set on errors if known
  std::string visitor_id; // lowercase when a UUID, else as sent
  std::string error;      // invalid: the text for the error frame
};

// Decodes an inbound text frame. Errors, in the order they are checked:
// "Invalid JSON", "Message must be a JSON object", "type is required",
// "Unknown message type: X" (X cut to 64 characters), "message is required"
// (missing, not a string, empty or only whitespace), "Session not found"
// (session_id missing or not a UUID), "Visitor ID does not match"
// (visitor_id missing or not a string).
visitor_command decode_visitor(std::string_view text);

} // namespace parley::net
