#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/conversation.hpp"

namespace parley {

struct registry_state {
  struct live_entry {
    caf::actor conversation;
    std::uint64_t routed = 0; // commands forwarded, compared on went_idle
  };
  std::unordered_map<std::string, live_entry> live;
  // Commands for conversations being loaded from storage; each runs once the
  // actor exists (or with nullptr when the session does not exist).
  std::unordered_map<std::string, std::vector<std::function<void(caf::actor)>>>
    loading;
  conversation_deps deps; // registry field set at spawn
  static inline const char* name = "parley.registry";
};

// Finds or spawns the conversation actor of a session id (reloading it from
// storage) and routes open_session, post_message and fetch_session to it;
// lets idle conversations go (went_idle); shutdown_atom interrupts every live
// conversation, answers true when all are done and then stops them.
caf::behavior registry(caf::stateful_actor<registry_state>* self,
                       conversation_deps deps);

} // namespace parley
