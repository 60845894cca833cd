#pragma once

#include <caf/actor_system_config.hpp>

#include "actors/messages.hpp"

namespace parley::testing {

// The actor system of the actor suites: parley's message types.
struct test_config : caf::actor_system_config {
  test_config() {
    add_message_types<caf::id_block::parley>();
  }
};

} // namespace parley::testing
