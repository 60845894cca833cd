#pragma once

#include <caf/fwd.hpp>

namespace parley {

// Makes the actor system run CAF's work-stealing scheduler compiled without
// the logger bookkeeping of each actor turn (see quiet_scheduler.cpp). Same
// policy, same settings (scheduler.*, work-stealing.*).
void use_quiet_scheduler(caf::actor_system_config& cfg);

// An actor that many others send to (the registry, the pacer) gets a streak
// of turns when it has a backlog instead of one message per round of all
// runnable actors. Up to eight at a time; unmark before it is gone.
void mark_hub(const caf::actor& x);
void unmark_hub(const caf::actor& x);

} // namespace parley
