#pragma once

// Seed 000's conversations under /v1/chat/conversations and its notification
// socket /ws/conversations/{id}/: who is asking (JWT), which conversation,
// the checks on what is posted, and the REST answers through the engine.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "net/caller.hpp"
#include "net/rest.hpp"

namespace parley::net {

struct conversation_request {
  enum class action {
    respond,
    list,
    create,
    get,
    remove,
    submit,
    add_member,
    remove_member
  };
  action what = action::respond;
  http_response response;      // respond: the answer (an error)
  std::string owner;           // the caller's JWT `sub`
  std::string conversation_id; // lowercase UUID
  std::string title;           // create
  std::string content;         // submit: the message text
  std::string image;           // submit: a checked data: URL, or ""
  std::string member;          // add_member, remove_member: a user id
};

// Whether `path` is under /v1/chat/conversations.
bool is_conversation_path(std::string_view path);

// The largest request body a path may have: a message may carry an image.
std::size_t conversation_body_limit(std::string_view path, const settings& cfg);
// The largest of them.
std::size_t max_body_limit(const settings& cfg);

// Routes and validates a request under /v1/chat/conversations from `who`.
conversation_request parse_conversation_request(const http_request& req,
                                                caller who,
                                                const settings& cfg);

// Answers every action but `respond` through the engine.
void handle_conversation_rest(engine& eng, conversation_request&& call,
                              unsigned version, bool keep_alive,
                              respond_fn send);

// The notification socket's conversation id if `path` is
// /ws/conversations/{id}/ (the trailing slash optional), the id as sent.
std::optional<std::string_view> notification_socket_id(std::string_view path);

} // namespace parley::net
