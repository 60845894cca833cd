#pragma once

#include <cstddef>
#include <string>

#include <caf/fwd.hpp>

#include "agent/builtin_agent.hpp"

namespace parley {

struct settings;

struct llm_state {
  std::string reply_id;
  agent::turn_output out;
  std::size_t next = 0; // the next chunk to send
  static inline const char* name = "parley.llm";
};

// Streams one reply: on a reply_request it sends the conversation
// reply_chunk messages, paced by settings.stream_delay_ms, then reply_done,
// and quits. The conversation stops it early with an exit message.
caf::behavior llm_actor(caf::stateful_actor<llm_state>* self,
                        caf::actor conversation, const settings* cfg);

} // namespace parley
