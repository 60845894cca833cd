#pragma once

#include <chrono>
#include <cstdint>

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>

namespace parley {

// Wall-clock milliseconds as an actor sees them: the wall time at the first
// call plus the actor system's clock since then. Stored deadlines are wall
// time; in tests the actor clock is virtual, so expiry and idle deadlines
// follow advance_time() exactly.
inline std::int64_t now_ms(caf::local_actor* self) {
  using namespace std::chrono;
  static const auto wall0 = duration_cast<milliseconds>(
                              system_clock::now().time_since_epoch())
                              .count();
  static const auto steady0 = self->home_system().clock().now();
  auto elapsed = self->home_system().clock().now() - steady0;
  return wall0 + duration_cast<milliseconds>(elapsed).count();
}

} // namespace parley
