#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <caf/detail/thread_safe_actor_clock.hpp>

namespace parley {

// CAF's clock as the actors see it, minus a wake-up per terminating actor.
// An actor that terminates has its cancellable timeouts (request timeouts,
// `after` handlers) cancelled by an event to the clock thread, which wakes
// for it whether the actor had any or not: a wake-up per reply, since each
// reply's LLM actor quits, for actors that only ever use delayed messages
// (those cannot be cancelled) or no timer at all. This clock remembers which
// actors set a cancellable timeout and passes on only their cancellations;
// the timeouts themselves go straight to `real`, whose thread does the work.
//
// Delayed messages to an actor (delayed_send: the pacer's ticks, idle
// timers) wait on a thread of this clock's own. CAF's clock thread is woken
// by every message scheduled, to file it, and again when it is due: two
// wake-ups per pacer tick. This one is woken only by a message due before
// the time it already sleeps until, so a message filed while an earlier one
// is pending costs no wake-up at all.
//
// A thread_safe_actor_clock by type only because CAF's coordinator returns
// that type; its own queue and loop stay unused.
class quiet_clock final : public caf::detail::thread_safe_actor_clock {
public:
  explicit quiet_clock(caf::detail::thread_safe_actor_clock& real);
  ~quiet_clock() override;

  // The delayed-message thread: started with the scheduler, stopped before
  // its workers. Messages still pending at the stop are dropped, as CAF's
  // clock drops its own.
  void start_dispatch(caf::actor_system& sys);
  void stop_dispatch();

  // What the thread sleeps until (min while awake, max with nothing
  // filed), and how often filing a message woke it: for tests.
  time_point asleep_until();
  std::uint64_t wakeups();

  time_point now() const noexcept override;
  duration_type difference(caf::atom_value measurement, long units,
                           time_point t0,
                           time_point t1) const noexcept override;
  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override;
  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override;
  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override;
  void cancel_ordinary_timeout(caf::abstract_actor* self,
                               caf::atom_value type) override;
  void cancel_request_timeout(caf::abstract_actor* self,
                              caf::message_id id) override;
  void cancel_timeouts(caf::abstract_actor* self) override;
  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override;
  void schedule_message(time_point t, caf::group target,
                        caf::strong_actor_ptr sender,
                        caf::message content) override;
  void cancel_all() override;

private:
  struct delayed {
    time_point due;
    std::uint64_t seq; // equal due times go out in the order filed
    caf::strong_actor_ptr receiver;
    caf::mailbox_element_ptr content;
  };

  // std::push_heap order: the earliest (then the first filed) on top.
  static bool later(const delayed& x, const delayed& y);

  void remember(caf::abstract_actor* self);
  void dispatch_loop();

  caf::detail::thread_safe_actor_clock& real_;
  std::mutex mutex_;
  // Actors that set a cancellable timeout and have not terminated.
  std::unordered_set<caf::actor_id> timed_;

  // The delayed messages, guarded by their own mutex.
  std::mutex delayed_mutex_;
  std::condition_variable wake_;
  std::vector<delayed> pending_; // a heap, the earliest on top
  std::uint64_t filed_ = 0;
  std::uint64_t wakeups_ = 0;
  // When the thread wakes by itself; time_point::min() while it is awake
  // or already notified, max() while it waits for any message at all.
  time_point asleep_until_ = time_point::min();
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace parley
