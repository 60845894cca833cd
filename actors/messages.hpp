#pragma once

// Every message that crosses between parley's actors: plain structs with an
// `inspect` overload each, registered in one type-ID block, so that an actor
// can live on another node (CAF remoting) without changing its callers.
// Include only from .cpp files: this pulls in CAF.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include "agent/llm_types.hpp"
#include "storage/records.hpp"

namespace parley {

// -- from connections (via the registry) to a conversation ------------------

struct open_session {
  std::uint64_t conn = 0;
  std::string session_id;
  std::string visitor_id;
};

struct post_message {
  std::uint64_t conn = 0;
  std::string session_id;
  std::string visitor_id;
  std::string text;
};

// A reconnecting stream asks for a reply from after chunk `after` on
// (seed 001's Last-Event-ID), then live.
struct resume_reply {
  std::uint64_t conn = 0;
  std::string session_id;
  std::string visitor_id;
  std::string reply_id;
  std::uint32_t after = 0;
};

struct fetch_session {
  std::string session_id;
  std::string visitor_id;
  bool with_messages = true; // false: only check access and get the session
};

// The answer to fetch_session: the session and its messages, or an error.
struct session_view {
  int status = 200;
  std::string error;
  storage::session_record session;
  std::vector<storage::message_record> messages;
};

// REST -> registry -> conversation (seed 000): a signed-in user's message
// with an optional image (a data: URL). Answered with a submit_result once
// the message is stored; the reply then streams to the conversation's
// sockets.
struct submit_message {
  std::string session_id;
  std::string visitor_id;
  std::string text;
  std::string image;
};

struct submit_result {
  int status = 202; // 404, 409 (a reply is streaming), 503
  std::string error;
  storage::message_record message; // the stored user message
};

// A connection closed.
struct leave {
  std::uint64_t conn = 0;
};

// -- conversation internals ---------------------------------------------------

// A delayed self-message for the idle deadline `due` (ms since the epoch)
// it was set for; when it fires, the conversation checks the deadline as it
// is now, so resetting the idle clock never cancels a timer.
struct idle_tick {
  std::int64_t due = 0;
};

// A conversation with nothing to do asks the registry to let it go; `handled`
// counts the commands it has seen, so a command still in flight keeps it.
struct went_idle {
  std::string session_id;
  std::uint64_t handled = 0;
};

// A signed-in conversation -> itself, a while after the last watcher left:
// still unwatched and no command since (`handled`), it asks to be let go.
struct unwatched {
  std::uint64_t handled = 0;
};

// -- conversation <-> LLM actor
// -------------------------------------------------

// conversation -> LLM actor, sent beside the request that stores the user's
// message: the actor prepares the reply meanwhile (the builtin answer, the
// knowledge passages) and starts it on `stored_atom`, once the message is
// stored. A reply needs the stored message (history, crash safety), but not
// a turn of its own after the store to get ready.
struct reply_request {
  std::string reply_id;
  std::string session_id;
  std::string user_text;
  std::string conversation_data;
};

// LLM actor -> pacer: send me next_atom at `due` (pacer_time nanoseconds),
// and `times - 1` more times, `every` nanoseconds apart.
struct wake_at {
  std::int64_t due = 0;
  std::int64_t every = 0;
  std::uint64_t times = 1;
};

// The pacer's own timer, for the wake due at `due`.
struct pacer_tick {
  std::int64_t due = 0;
};

// A chunk names no reply: the conversation knows its reply's LLM actor by
// address, and a chunk from any other sender is stale.
struct reply_chunk {
  std::string text;
};

struct reply_done {
  std::string reply_id;
  std::string conversation_data;
  bool needs_info = false;
  std::vector<std::string> suggestions;
  std::vector<storage::knowledge_record> sources; // what the reply cites
};

// The reply failed upstream (LLM errors): `error` is a text for people,
// `error_type` the error frame's metadata.error_type ("llm_auth", ...). The
// conversation stores what streamed so far as a partial reply.
struct reply_failed {
  std::string reply_id;
  std::string error;
  std::string error_type;
};

// -- tools (LLM actor <-> conversation, engine -> conversation) ----------------

// From the curl loop to the LLM actor: one model call ended well; `calls`
// are the tools it asked for (none: the reply is complete).
struct llm_step_done {
  std::string reply_id;
  std::vector<agent::tool_call> calls;
};

// LLM actor -> conversation (a request): the model called tools. The
// conversation stores the call message (with `text`, what the model said
// before calling), runs the calls in order, waiting for a person's approval
// where a tool needs it, stores each result and answers with tool_results.
struct tool_round {
  std::string reply_id;
  std::string text;
  std::vector<agent::tool_call> calls;
};

struct tool_result {
  std::string tool_call_id;
  std::string content; // JSON text for the model
  std::vector<storage::knowledge_record> sources;
};

struct tool_results {
  std::vector<tool_result> results; // in the order of the calls
  std::string conversation_data;    // the profile after the round, if changed
};

// Engine -> registry -> conversation: a person approved or declined the tool
// call waiting in a conversation. Answered with an status_result.
struct approve_tool {
  std::string session_id;
  std::string tool_call_id;
  bool approved = false;
};

// Conversation -> itself: the tool call has waited for approval as long as
// a visitor may stay idle (PARLEY_IDLE_WARNING_SECONDS); it is declined,
// so that a reply nobody can approve does not hold the session forever.
struct approval_expired {
  std::string tool_call_id;
};

// The answer to approve_tool and delete_conversation: an HTTP-like status
// and, for an error, why.
struct status_result {
  int status = 200;
  std::string error;
};

// Engine -> registry -> conversation: the owner deletes a signed-in
// conversation with everything in it (reply: status_result, 204). Its
// sockets get an error event, then the conversation stops.
struct delete_conversation {
  std::string session_id;
  std::string visitor_id;
};

// Engine -> registry -> conversation: the owner adds or removes a member,
// a user (JWT `sub`) who may then see and write to the conversation too
// (reply: session_view with the session and its members).
struct change_member {
  std::string session_id;
  std::string visitor_id;
  std::string member;
  bool add = true;
};

// -- storage actor
// ----------------------------------------------------------------

struct save_session {
  storage::session_record session;
  bool create = false; // insert instead of update
};

struct save_message {
  storage::message_record message;
};

struct load_session {
  std::string session_id;
};

// The engine -> the registry, once a session it created is stored: the
// session's first command spawns its conversation from this record instead
// of reading the row back.
struct session_created {
  storage::session_record session;
};

struct session_lookup {
  bool found = false;
  storage::session_record session;
};

struct load_messages {
  std::string session_id;
};

struct message_list {
  std::vector<storage::message_record> messages;
};

// Deletes a session and everything in it (reply: bool once committed).
struct drop_session {
  std::string session_id;
};

// Adds or removes a member of a conversation (reply: bool once committed).
struct save_member {
  std::string session_id;
  std::string user_id;
  std::int64_t at = 0;
  bool add = true;
};

// A signed-in user's conversations (reply: session_list, newest first).
struct load_conversations {
  std::string owner_id;
};

struct session_list {
  std::vector<storage::session_record> sessions;
};

// -- inspect overloads (CAF 0.17 form)
// ----------------------------------------------

namespace storage {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_record& x) {
  return f(caf::meta::type_name("parley::storage::session_record"), x.id,
           x.visitor_id, x.status, x.created_at, x.expires_at,
           x.last_activity_at, x.warning_sent, x.conversation_data, x.kind,
           x.owner_id, x.title, x.members);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_record& x) {
  return f(caf::meta::type_name("parley::storage::message_record"), x.id,
           x.session_id, x.role, x.kind, x.content, x.state, x.created_at,
           x.tool_call_id, x.tool_calls, x.image, x.html, x.sources);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, knowledge_record& x) {
  return f(caf::meta::type_name("parley::storage::knowledge_record"), x.id,
           x.title, x.content);
}

} // namespace storage

namespace agent {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_call& x) {
  return f(caf::meta::type_name("parley::agent::tool_call"), x.id, x.name,
           x.arguments);
}

} // namespace agent

#define PARLEY_INSPECT(type, ...)                                              \
  template <class Inspector>                                                   \
  typename Inspector::result_type inspect(Inspector& f, type& x) {             \
    return f(caf::meta::type_name("parley::" #type), __VA_ARGS__);             \
  }

PARLEY_INSPECT(open_session, x.conn, x.session_id, x.visitor_id)
PARLEY_INSPECT(post_message, x.conn, x.session_id, x.visitor_id, x.text)
PARLEY_INSPECT(resume_reply, x.conn, x.session_id, x.visitor_id, x.reply_id,
               x.after)
PARLEY_INSPECT(fetch_session, x.session_id, x.visitor_id, x.with_messages)
PARLEY_INSPECT(submit_message, x.session_id, x.visitor_id, x.text, x.image)
PARLEY_INSPECT(submit_result, x.status, x.error, x.message)
PARLEY_INSPECT(session_view, x.status, x.error, x.session, x.messages)
PARLEY_INSPECT(leave, x.conn)
PARLEY_INSPECT(idle_tick, x.due)
PARLEY_INSPECT(went_idle, x.session_id, x.handled)
PARLEY_INSPECT(unwatched, x.handled)
PARLEY_INSPECT(reply_request, x.reply_id, x.session_id, x.user_text,
               x.conversation_data)
PARLEY_INSPECT(wake_at, x.due, x.every, x.times)
PARLEY_INSPECT(pacer_tick, x.due)
PARLEY_INSPECT(reply_chunk, x.text)
PARLEY_INSPECT(reply_done, x.reply_id, x.conversation_data, x.needs_info,
               x.suggestions, x.sources)
PARLEY_INSPECT(reply_failed, x.reply_id, x.error, x.error_type)
PARLEY_INSPECT(llm_step_done, x.reply_id, x.calls)
PARLEY_INSPECT(tool_round, x.reply_id, x.text, x.calls)
PARLEY_INSPECT(tool_result, x.tool_call_id, x.content, x.sources)
PARLEY_INSPECT(tool_results, x.results, x.conversation_data)
PARLEY_INSPECT(approve_tool, x.session_id, x.tool_call_id, x.approved)
PARLEY_INSPECT(approval_expired, x.tool_call_id)
PARLEY_INSPECT(status_result, x.status, x.error)
PARLEY_INSPECT(delete_conversation, x.session_id, x.visitor_id)
PARLEY_INSPECT(change_member, x.session_id, x.visitor_id, x.member, x.add)
PARLEY_INSPECT(drop_session, x.session_id)
PARLEY_INSPECT(save_member, x.session_id, x.user_id, x.at, x.add)
PARLEY_INSPECT(save_session, x.session, x.create)
PARLEY_INSPECT(save_message, x.message)
PARLEY_INSPECT(load_session, x.session_id)
PARLEY_INSPECT(session_lookup, x.found, x.session)
PARLEY_INSPECT(session_created, x.session)
PARLEY_INSPECT(load_messages, x.session_id)
PARLEY_INSPECT(message_list, x.messages)
PARLEY_INSPECT(load_conversations, x.owner_id)
PARLEY_INSPECT(session_list, x.sessions)

#undef PARLEY_INSPECT

} // namespace parley

CAF_BEGIN_TYPE_ID_BLOCK(parley, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(parley, (parley::storage::session_record))
  CAF_ADD_TYPE_ID(parley, (parley::storage::message_record))
  CAF_ADD_TYPE_ID(parley, (parley::open_session))
  CAF_ADD_TYPE_ID(parley, (parley::post_message))
  CAF_ADD_TYPE_ID(parley, (parley::fetch_session))
  CAF_ADD_TYPE_ID(parley, (parley::session_view))
  CAF_ADD_TYPE_ID(parley, (parley::leave))
  CAF_ADD_TYPE_ID(parley, (parley::idle_tick))
  CAF_ADD_TYPE_ID(parley, (parley::went_idle))
  CAF_ADD_TYPE_ID(parley, (parley::unwatched))
  CAF_ADD_TYPE_ID(parley, (parley::reply_request))
  CAF_ADD_TYPE_ID(parley, (parley::reply_chunk))
  CAF_ADD_TYPE_ID(parley, (parley::reply_done))
  CAF_ADD_TYPE_ID(parley, (parley::save_session))
  CAF_ADD_TYPE_ID(parley, (parley::save_message))
  CAF_ADD_TYPE_ID(parley, (parley::load_session))
  CAF_ADD_TYPE_ID(parley, (parley::session_lookup))
  CAF_ADD_TYPE_ID(parley, (parley::load_messages))
  CAF_ADD_TYPE_ID(parley, (parley::message_list))
  CAF_ADD_ATOM(parley, parley, next_atom, "next")
  CAF_ADD_ATOM(parley, parley, quit_atom, "quit")
  CAF_ADD_ATOM(parley, parley, shutdown_atom, "shutdown")
  CAF_ADD_TYPE_ID(parley, (parley::reply_failed))
  CAF_ADD_TYPE_ID(parley, (parley::llm_step_done))
  CAF_ADD_TYPE_ID(parley, (parley::tool_round))
  CAF_ADD_TYPE_ID(parley, (parley::tool_results))
  CAF_ADD_TYPE_ID(parley, (parley::approve_tool))
  CAF_ADD_TYPE_ID(parley, (parley::approval_expired))
  CAF_ADD_TYPE_ID(parley, (parley::status_result))
  CAF_ADD_TYPE_ID(parley, (parley::load_conversations))
  CAF_ADD_TYPE_ID(parley, (parley::session_list))
  CAF_ADD_TYPE_ID(parley, (parley::resume_reply))
  CAF_ADD_TYPE_ID(parley, (parley::submit_message))
  CAF_ADD_TYPE_ID(parley, (parley::submit_result))
  CAF_ADD_TYPE_ID(parley, (parley::delete_conversation))
  CAF_ADD_TYPE_ID(parley, (parley::change_member))
  CAF_ADD_TYPE_ID(parley, (parley::drop_session))
  CAF_ADD_TYPE_ID(parley, (parley::save_member))
  CAF_ADD_TYPE_ID(parley, (parley::wake_at))
  CAF_ADD_TYPE_ID(parley, (parley::pacer_tick))
  CAF_ADD_TYPE_ID(parley, (parley::session_created))
  CAF_ADD_ATOM(parley, parley, stored_atom, "stored")
CAF_END_TYPE_ID_BLOCK(parley)
