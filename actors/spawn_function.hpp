#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace parley {

// Spawns `f(self)` as a function actor. CAF 0.17 keeps a function actor's
// arguments in a tuple it leaves null when there are none, then dereferences
// it (undefined behaviour, which UBSan reports); one ignored argument
// avoids that.
template <class F>
caf::actor spawn_function(caf::actor_system& sys, F f) {
  return sys.spawn(
    [f](caf::event_based_actor* self, int) mutable { f(self); }, 0);
}

} // namespace parley
