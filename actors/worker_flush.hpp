#pragma once

// Output that actor turns leave for their worker thread to write once it
// runs out of work. A frame handed to a network thread costs that thread a
// wake-up and the frame a hop; written by the worker that made it, it costs
// neither, and a connection's frames from one run of turns go in one system
// call. A worker that stays busy for flush_every turns hands its output to
// the network threads instead: they lag behind a busy worker, so they gather
// more frames per write (unpaced throughput fell by a sixth when the workers
// wrote everything themselves).

#include <memory>

namespace parley {

class flushable {
public:
  // On the worker that accepted it: write what is waiting. `busy`: the
  // worker still has work queued, so the output had better go to a thread
  // that gathers it.
  virtual void flush(bool busy) = 0;

protected:
  ~flushable() = default;
};

// True on a scheduler worker thread: `x` gets one flush() call on this
// thread before it next sleeps or steals, or within flush_every turns. False on
// any other thread, which must hand the output on some other way. Held weakly:
// one gone by then is skipped, and a worker that ends with the actor system
// (its shutdown job can come before a flush) keeps no connection alive after
// the network that owns it is gone.
bool flush_on_this_worker(std::weak_ptr<flushable> x);

// For the scheduler: this thread is a worker; and its flush point.
void become_flushing_worker();
void flush_this_worker(bool busy);

// Turns a busy worker runs before it flushes anyway.
constexpr int flush_every = 256;

} // namespace parley
