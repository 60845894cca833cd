#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
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
  // As read (find_session), the last activity counts the session's newest
  // user message too: see take_activity_from.
  std::int64_t last_activity_at = 0;
  bool warning_sent = false;
  std::string conversation_data = "{}"; // a JSON object, stored as text
  // A signed-in user's conversation (seeds 000, 001) has an owner and a
  // title; a visitor session (002) has neither.
  std::string kind = "visitor"; // "visitor" or "conversation"
  std::string owner_id;         // the owner's JWT `sub`; empty for visitors
  std::string title;
  // Users the owner added, who see and write to the conversation too, in
  // the order they were added. Read with the session (find_session); changed
  // through write_op::add_member / remove_member, never by an update.
  std::vector<std::string> members;
};

// A visitor's message is activity, but storing it leaves the session row as
// it was: the reply's end rewrites the row, and one write fewer per reply is
// worth more than a row that is right mid-reply. So a session read back
// takes its last activity from its newest user message when that is newer,
// and then no idle warning has been sent since.
inline void take_activity_from(session_record& x,
                               std::int64_t newest_user_message_at) {
  if (newest_user_message_at <= x.last_activity_at)
    return;
  x.last_activity_at = newest_user_message_at;
  x.warning_sent = false;
}

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
  std::string role;       // "user", "assistant" or "tool"
  std::string kind;       // "message", "idle_warning" or "session_end"
  std::string content;
  std::string state; // "complete" or "partial" (interrupted reply)
  std::int64_t created_at = 0;
  std::string tool_call_id; // a tool result: the call it answers
  std::string tool_calls;   // an assistant's tool calls: a JSON array, or ""
  std::string image;        // a user's image as a data: URL, or ""
  std::string html;         // the reply rendered from markdown (seed 001)
  // What the message cites, in order; written and read with it (a
  // many-to-many link, as seed 001's AiChatRoomMessageKnowledge).
  std::vector<knowledge_record> sources;
};

// The parts of a stored image (message_record::image): "data:<media
// type>;base64,<base64>". Empty views for anything else.
struct data_url_parts {
  std::string_view media_type;
  std::string_view base64;
};

inline data_url_parts split_data_url(std::string_view url) {
  constexpr std::string_view data = "data:";
  constexpr std::string_view b64 = ";base64,";
  auto at = url.find(b64);
  if (url.substr(0, data.size()) != data || at == std::string_view::npos)
    return {};
  return {url.substr(data.size(), at - data.size()),
          url.substr(at + b64.size())};
}

// A message without tool calls, image or html (most of them).
inline message_record text_message(std::string id, std::string session_id,
                                   std::string role, std::string kind,
                                   std::string content, std::string state,
                                   std::int64_t created_at) {
  message_record x;
  x.id = std::move(id);
  x.session_id = std::move(session_id);
  x.role = std::move(role);
  x.kind = std::move(kind);
  x.content = std::move(content);
  x.state = std::move(state);
  x.created_at = created_at;
  return x;
}

} // namespace parley::storage
