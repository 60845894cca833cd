#pragma once

// Seed 000's conversations and messages as JSON text, one shape for the REST
// answers and the notification socket's frames.

#include <string>
#include <vector>

#include "storage/records.hpp"

namespace parley::net {

// {id, conversation_id, role, content, tool_call_id, tool_calls, image,
// base64_image, media_type, state, sources, created_at}; absent values are
// null, so a client can rely on every key. `image` is the data: URL the
// frontend's Image component renders, `base64_image` the same without its
// prefix (as the client posted it).
std::string message_json(const storage::message_record& m);

// {id, title, owner_id, created_at, updated_at, members}; with `messages`
// also "messages": [...] (the chat lines, oldest first) and "conversation":
// the fields again (without members), for frontends that read either shape.
std::string
conversation_json(const storage::session_record& s,
                  const std::vector<storage::message_record>* messages
                  = nullptr);

// [conversation, ...]
std::string
conversation_list_json(const std::vector<storage::session_record>& xs);

} // namespace parley::net
