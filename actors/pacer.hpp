#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace parley {

// Wakes the paced streams of a node. A stream sends `wake_at` once for all
// its next chunks and gets `next_atom` at each of their times (a message
// per chunk to the pacer was a third of the actor messages of a paced
// chunk). Every stream due within a short slack of a tick wakes with it,
// so there are far fewer ticks than chunks. Two ticks are kept armed: the
// earliest and the one after it. The clock's thread then already holds the
// next tick when it sends one, and sleeps on without being woken to file a
// new one (actors/quiet_clock.hpp). A stream that ended is dropped at its
// next wake.
struct pacer_state {
  struct entry {
    std::int64_t due;   // nanoseconds on the actor clock
    std::int64_t every; // to the wake after this one
    std::uint64_t left; // wakes still to send, this one included
    caf::actor_addr whom;
  };
  std::vector<entry> heap; // earliest first (std::push_heap order)
  // Due times of the ticks sent and not yet received (about two).
  std::vector<std::int64_t> ticks;
  static inline const char* name = "parley.pacer";
};

// Streams due within `slack` after a tick are woken by it: at most that
// early, and many wakes share one timer and one busy worker. At 1 ms rather
// than 0.5, a thousand paced streams woke CAF's clock thread 30% less often
// and the chunk delay p99 fell; a chunk 1 ms early in a 20 ms pace is not
// seen.
constexpr caf::timespan pacer_slack = std::chrono::milliseconds(1);

caf::behavior pacer(caf::stateful_actor<pacer_state>* self,
                    caf::timespan slack);

// The actor clock's time as the nanoseconds `wake_at` carries.
std::int64_t pacer_time(caf::actor_clock::time_point t);

} // namespace parley
