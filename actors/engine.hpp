#pragma once

// The engine as the network layer sees it: plain C++ calls with callbacks, no
// CAF types, so that net/ never includes CAF headers. Callbacks run on actor
// threads; net/ posts them onto its own strands.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/event.hpp"
#include "storage/records.hpp"

namespace parley {

struct settings;

// Answer to a REST call about a session.
struct session_reply {
  int status = 200; // HTTP status: 200/201, 400, 403, 404, 503
  std::string error; // the error text when status >= 400
  storage::session_record session;
  std::vector<storage::message_record> messages;
  std::vector<storage::session_record> sessions; // a list of conversations
};

class engine {
public:
  explicit engine(const settings& cfg);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Starts the actor system, opens and migrates storage. Throws
  // std::runtime_error with a one-line reason on failure.
  void start();

  // Graceful stop: ends streams, stores partial replies, stops actors.
  void stop();

  // Tears the actor system down (stop() first if needed): waits for every
  // actor to quit and joins CAF's threads. Call it after every thread that
  // calls the engine has ended but before the sinks it writes to go: a
  // worker may be writing a session's frames until then. Afterwards
  // detach() does nothing. The destructor calls it.
  void finish();

  // -- connections ----------------------------------------------------------

  // Registers a connection; frames for it go to `out`, encoded by `enc`.
  std::uint64_t attach(std::weak_ptr<sink> out, encoder enc);

  // The connection closed: it leaves every conversation it watched.
  void detach(std::uint64_t conn);

  // Subscribes `conn` to a session; answers with a `connected` or `error`
  // event on the connection.
  void open(std::uint64_t conn, std::string session_id, std::string visitor_id);

  // A visitor message: subscribes `conn` if needed, then starts a reply, or
  // answers with an `error` event on the connection.
  void post(std::uint64_t conn, std::string session_id, std::string visitor_id,
            std::string text);

  // Sends an event to one connection only (for errors found before routing).
  void reply(std::uint64_t conn, const event& ev);

  // -- REST -------------------------------------------------------------------

  void create_session(std::string visitor_id, std::string conversation_data,
                      std::function<void(session_reply)> done);
  void get_session(std::string session_id, std::string visitor_id,
                   std::function<void(session_reply)> done);

  // -- signed-in conversations (seeds 000 and 001) ----------------------------
  // A conversation is a session of kind "conversation" owned by a user (the
  // JWT `sub`). A stranger gets 404 "Conversation not found", as for one
  // that does not exist: nobody learns whether someone else's conversation
  // exists. The visitor calls above never reach one.

  // As post(), for the conversation's owner.
  void post_as_user(std::uint64_t conn, std::string session_id,
                    std::string sub, std::string text);
  // A stream that reconnects (Last-Event-ID): the chunks of `reply_id`
  // after chunk `after`, then the rest live, or its end if it is over.
  void resume_as_user(std::uint64_t conn, std::string session_id,
                      std::string sub, std::string reply_id,
                      std::uint32_t after);
  // As get_session(), for the conversation's owner; without
  // `with_messages` it only checks access (reply.messages stays empty).
  void get_conversation(std::string session_id, std::string sub,
                        std::function<void(session_reply)> done,
                        bool with_messages = true);
  // Subscribes `conn` to every event of the conversation (seed 000's
  // notification socket); an `error` event if `sub` may not see it.
  void watch_as_user(std::uint64_t conn, std::string session_id,
                     std::string sub);
  // Stores `text` with an optional image (a data: URL) as the user's
  // message, then starts the reply in the conversation. `done` gets 202 with
  // the stored message as reply.messages[0], or 404, 409 (a reply is still
  // streaming) or 503.
  void submit_as_user(std::string session_id, std::string sub,
                      std::string text, std::string image,
                      std::function<void(session_reply)> done);
  // The owner deletes the conversation and everything in it: 204, 403 (a
  // member), 404 or 503. Its sockets get an error event and nothing more.
  void delete_conversation(std::string session_id, std::string sub,
                           std::function<void(session_reply)> done);
  // The owner adds (or removes) `member`, a user's `sub`, who may then see,
  // join and write to the conversation (or no longer): 200 with the
  // session and its members, 400, 403, 404 or 503.
  void change_member(std::string session_id, std::string sub,
                     std::string member, bool add,
                     std::function<void(session_reply)> done);

  void create_conversation(std::string owner_id, std::string title,
                           std::function<void(session_reply)> done);
  // reply.sessions: the owner's conversations, newest first.
  void list_conversations(std::string owner_id,
                          std::function<void(session_reply)> done);

  // -- tools ------------------------------------------------------------------

  // A person approves (or declines) the tool call `tool_call_id` that waits
  // in conversation `session_id` (a tool with needs_approval). The caller
  // checks that this person may decide for that conversation. `done` gets
  // 200, 404 with "Session not found" or "No tool call with that id is
  // waiting for approval", or 503.
  void approve(std::string session_id, std::string tool_call_id,
               bool approved, std::function<void(int, std::string)> done);

  // True once storage is open and the actors run.
  bool ready() const;

  // Why the engine cannot serve everything right now (the database does not
  // answer), empty when it can. Never blocks.
  std::string degraded() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace parley
