#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/records.hpp"

namespace parley {

// What a conversation tells its subscribers, in engine terms. Dialects (net/)
// turn an event into their wire frame; actors never see a wire format.
enum class event_kind : std::uint8_t {
  connected,    // a connection joined a session
  chunk,        // a piece of a streaming reply
  complete,     // the reply is done and stored
  idle_warning, // no visitor activity for the warning period
  session_end,  // the session ended (reason says why)
  error,        // a request failed; text says why
  message,      // a message of a signed-in conversation was stored (seed 000)
};

struct event {
  event_kind kind = event_kind::error;
  std::string session_id;
  std::string message_id;        // the user message a reply answers
  std::string response_id;       // the assistant message
  std::string text;              // chunk text, full message or error text
  std::string conversation_data; // JSON object text; empty means omit
  std::vector<std::string> suggestions;
  std::optional<bool> needs_info;
  bool complete = false;         // the session is complete (session_end)
  std::string reason;            // session_end reason or error type
  int timeout_seconds = 0;       // idle_warning / session_end
  // chunk: its number in the reply (1, 2, ...); complete: how many chunks
  // the reply had. With response_id it names a point in a stream (the SSE
  // dialect's event ids).
  std::uint32_t seq = 0;
  // complete: the knowledge passages the reply cites, best first, each with
  // a short snippet as content (the SSE dialect's `sources` event). Stored
  // linked to the assistant message before `complete` goes out.
  std::vector<storage::knowledge_record> sources;
  // message: the stored message, shared by every subscriber's frame.
  std::shared_ptr<const storage::message_record> message;
};

// An encoded frame, immutable and shared by every subscriber of one dialect.
using frame_ptr = std::shared_ptr<const std::string>;

// A dialect's encoder: one event to one frame payload, or null for an event
// the dialect has no frame for (nothing is sent then).
using encoder = frame_ptr (*)(const event&);

// Where frames for one connection go. Implemented by net/ sessions; send()
// is called from actor threads and must only enqueue (post to the strand).
class sink {
public:
  virtual ~sink() = default;
  virtual void send(frame_ptr frame) = 0;
};

} // namespace parley
