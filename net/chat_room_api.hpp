#pragma once

// Seed 001's chat rooms under /api/chat: who is asking (JWT), which room,
// and the REST answers. A chat room is a signed-in conversation of the
// engine. The stream itself is net/sse_session.

#include <string>

#include "net/caller.hpp"
#include "net/rest.hpp"

namespace parley::net {

struct chat_request {
  enum class action { respond, list, create, messages, stream };
  action what = action::respond;
  http_response response; // respond: the answer (an error)
  std::string owner;      // the caller's JWT `sub`
  std::string room_id;    // messages, stream: lowercase UUID
  std::string title;      // create
  std::string message;    // stream: a new message, or
  std::string resume_id;  // stream: the reply to resume (Last-Event-ID)
  std::uint32_t resume_after = 0; // the last chunk the client had
};

// Whether `path` is under /api/chat (and not /api/chats/, the visitor API).
bool is_chat_room_path(std::string_view path);

// Validates a request under /api/chat from `who` (see caller.hpp; the GET
// stream takes ?token= too, as EventSource cannot set headers).
chat_request parse_chat_request(const http_request& req, caller who);

// Answers list, create and messages through the engine.
void handle_chat_rest(engine& eng, chat_request&& call, unsigned version,
                      bool keep_alive, respond_fn send);

// 404 for a room that does not exist or is someone else's.
http_response room_not_found(unsigned version, bool keep_alive);

} // namespace parley::net
