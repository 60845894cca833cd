#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

// A knowledge passage a reply cites (seed 001's Knowledge): a source
// {id, title, content} with a short snippet as content. Rows never change:
// an id names one version of a passage.
struct knowledge_record {
  std::string id;
  std::string title;
  std::string content;
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
  // What the message cites, in order; written and read with it (a
  // many-to-many link, as seed 001's AiChatRoomMessageKnowledge).
  std::vector<knowledge_record> sources;
};

} // namespace parley::storage
