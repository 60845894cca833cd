#pragma once

#include <caf/fwd.hpp>

namespace parley {

// Makes the actor system run CAF's work-stealing scheduler compiled without
// the logger bookkeeping of each actor turn (see quiet_scheduler.cpp). Same
// policy, same settings (scheduler.*, work-stealing.*).
void use_quiet_scheduler(caf::actor_system_config& cfg);

} // namespace parley
