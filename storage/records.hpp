#pragma once

#include <cstdint>
#include <string>

namespace parley::storage {

// A visitor session (seed 002). Times are Unix epoch milliseconds.
struct session_record {
  std::string id;         // UUID
  std::string visitor_id; // UUID
  std::string status;     // "active" or "ended"
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  // Idle timers are deadlines derived from these two, so a restart keeps them.
  std::int64_t last_activity_at = 0;
  bool warning_sent = false;
  std::string conversation_data = "{}"; // a JSON object, stored as text
};

// One stored message of a conversation.
struct message_record {
  std::string id;         // UUID
  std::string session_id; // UUID of the owning session/conversation
  std::string role;       // "user" or "assistant"
  std::string kind;       // "message", "idle_warning" or "session_end"
  std::string content;
  std::string state; // "complete" or "partial" (interrupted reply)
  std::int64_t created_at = 0;
};

} // namespace parley::storage
