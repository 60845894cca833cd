#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>

#include "agent/builtin_agent.hpp"
#include "agent/llm_types.hpp"
#include "storage/records.hpp"

namespace parley {

namespace agent {
class knowledge_base;
class llm_client;
} // namespace agent

struct settings;

// What an LLM actor needs from its node.
struct llm_deps {
  const settings* cfg = nullptr;
  caf::actor storage;                        // history; may be null
  std::shared_ptr<agent::llm_client> client; // null: the builtin agent
  // Passages for the prompt and the sources; null: none.
  std::shared_ptr<const agent::knowledge_base> knowledge;
  caf::actor pacer; // wakes paced builtin replies (actors/pacer.hpp)
};

struct llm_state {
  std::string reply_id;
  std::string session_id;
  std::string user_text;
  agent::turn_output out;
  std::size_t next = 0; // the next chunk to send (builtin)
  // When the builtin reply started: chunk k is due k pauses after it, so a
  // late chunk does not push every later one back.
  caf::actor_clock::time_point started;
  std::vector<storage::knowledge_record> sources; // what the reply cites
  // Real providers: the turn as the model sees it, tool rounds included;
  // the text of the current model call; model calls made.
  agent::llm_request request;
  std::string step_text;
  int steps = 0;
  static inline const char* name = "parley.llm";
};

// Streams one reply: on a reply_request it prepares the reply; once told
// that the user's message is stored (stored_atom) it sends the conversation
// reply_chunk messages, then reply_done (with the sources it cites), or
// reply_failed when a real provider fails, and quits. The conversation
// stops it early with an exit message, which also aborts the upstream
// request.
//
//   conversation --reply_request,--> llm actor --start/cancel--> llm_client
//                  stored_atom
//        ^  ^                        |  |  ^                  (curl loop
//        |  +--reply_chunk/done/-----+  |  +---anon_send------  thread)
//        |     failed                   |   reply_chunk, llm_step_done,
//        +------tool_round / tool_results   reply_failed
//
// Real providers get the best knowledge passages in the system prompt and
// the tool registry. When the model calls tools, the conversation runs them
// (a tool_round request, answered once every call ran, approved ones
// included) and the model is asked again with the results, at most
// settings.llm_max_tool_steps times; tool calls beyond that end the reply.
//
// Builtin: the chunks are paced by settings.stream_delay_ms.
caf::behavior llm_actor(caf::stateful_actor<llm_state>* self,
                        caf::actor conversation, llm_deps deps);

// The node's LLM client for settings.agent, or null for "builtin". Reads
// PARLEY_LLM_SYSTEM_PROMPT_FILE; throws std::runtime_error with a one-line
// reason when it cannot. Call stop() on it before the actor system goes.
std::shared_ptr<agent::llm_client> make_llm_client(const settings& cfg);

} // namespace parley
