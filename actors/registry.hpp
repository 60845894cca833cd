#pragma once

#include <cstdint>
#include <deque>
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
  // Sessions this node created that no command has named yet, with the
  // order they came in (ids already taken leave it when they reach the
  // front, or with the oldest when it is full). Every visitor's first message named a session that was not
  // live, and reading its row back was a storage round trip before the
  // reply could start. At most `fresh_cap` records and `fresh_budget` bytes
  // (a client may send 64 KB of conversation data with each); the oldest
  // are dropped, and load from storage as before.
  std::unordered_map<std::string, storage::session_record> fresh;
  std::deque<std::string> fresh_order;
  std::size_t fresh_bytes = 0;
  static constexpr std::size_t fresh_cap = 4096;
  static constexpr std::size_t fresh_budget = std::size_t{4} << 20;
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
