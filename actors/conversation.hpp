#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/event.hpp"
#include "agent/llm_types.hpp"
#include "storage/records.hpp"

namespace parley {

namespace agent {
class knowledge_base;
class llm_client;
} // namespace agent

class connection_table;
struct settings;

// What a conversation needs from its node.
struct conversation_deps {
  caf::actor storage;
  caf::actor registry;
  connection_table* connections = nullptr;
  const settings* cfg = nullptr;
  // The node's LLM client when PARLEY_AGENT names a real provider; null for
  // the builtin agent.
  std::shared_ptr<agent::llm_client> llm;
  // PARLEY_KNOWLEDGE_DIR, indexed; null: no sources.
  std::shared_ptr<const agent::knowledge_base> knowledge;
  caf::actor pacer; // for the builtin agent's paced replies
};

// A connection watching the conversation, resolved once at subscribe time.
struct subscriber {
  std::uint64_t conn = 0;
  std::weak_ptr<sink> out;
  encoder enc = nullptr;
  // std::hash of the key it subscribed with (visitor id or owner key): a
  // member who is removed loses their sockets.
  std::uint64_t who = 0;
};

struct tool_results;

// The tool calls of one model step, run in order. A call whose tool needs
// approval waits (`waiting`) until the engine's approve() names it.
struct pending_tools {
  std::vector<agent::tool_call> calls;
  std::size_t next = 0; // the call running or waiting
  bool waiting = false;
  std::unique_ptr<tool_results> results;
  caf::typed_response_promise<tool_results> promise; // to the LLM actor
};

// The reply being produced, if any.
struct pending_reply {
  std::string user_message_id;
  std::string id;   // the assistant message id
  std::string text; // the chunks so far
  std::uint32_t chunks = 0;
  std::vector<std::uint32_t> ends; // where each chunk ends in `text`
  event chunk_event;               // the last chunk, reused for the next
  caf::actor llm;
  std::unique_ptr<pending_tools> tools; // set during a tool round
};

// The last reply of a signed-in conversation, for streams that reconnect
// after it ended (visitor sessions keep none: it would cost every idle one).
struct finished_reply {
  std::string id;
  std::string text;
  std::vector<std::uint32_t> ends;
  std::vector<storage::knowledge_record> sources;
};

struct conversation_state {
  conversation_deps deps;
  storage::session_record session;
  // Grouped by encoder, so an event is encoded once per dialect.
  std::vector<subscriber> subscribers;
  std::unique_ptr<pending_reply> reply; // set while a reply streams
  std::unique_ptr<finished_reply> last_reply;
  // The earliest pending idle tick's deadline (0: none). Activity only
  // moves the deadline; the tick re-arms itself when it fires early, so a
  // busy conversation has one timer pending, not one per message.
  std::int64_t tick_due = 0;
  std::uint64_t handled = 0;            // commands routed here, for release
  bool shutting_down = false;
  bool deleted = false; // being deleted: nothing more is stored
  static inline const char* name = "parley.conversation";
};

// One actor per conversation (here: a visitor session of seed 002). It owns
// its subscribers, its idle timers and its reply pipeline; everything about
// the conversation happens in its mailbox order, so nothing needs a lock.
//
// Handles open_session, post_message, fetch_session (reply: session_view),
// tool_round from its LLM actor (reply: tool_results, once every call ran),
// approve_tool (reply: status_result), submit_message (reply:
// submit_result), delete_conversation (reply: status_result), change_member
// (reply: session_view),
// leave, shutdown_atom (reply: bool, after storing any partial reply),
// quit_atom (from the registry), and its own idle_tick / reply_* messages
// (reply_failed: an upstream LLM error, shown as an error frame; the partial
// reply is stored).
caf::behavior conversation(caf::stateful_actor<conversation_state>* self,
                           storage::session_record session,
                           conversation_deps deps);

} // namespace parley
