#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/detail/thread_safe_actor_clock.hpp>

namespace parley {

// CAF's clock as the actors see it, with fewer wake-ups of a clock thread.
//
// Request timeouts (a REST call's ask, a shutdown's) wait on a thread of
// this clock's own. CAF's clock thread was woken to file each and again
// to cancel it when the asking actor quit: two wake-ups per REST call.
// Here filing one wakes the thread only if it is due before the time the
// thread already sleeps until, and a cancellation never does (it only drops
// the entry; a thread that slept for it wakes once, finds nothing due and
// sleeps on).
//
// Delayed messages to an actor (delayed_send: the pacer's ticks, idle
// timers) wait on the same thread, by the same rule: CAF's clock thread is
// woken by every message scheduled, to file it, and again when it is due.
//
// Other timeouts (`after` handlers) go to `real`, whose thread does the
// work. An actor that terminates has its timeouts cancelled, by an event
// to that thread for CAF's clock, which wakes it whether the actor had any
// or not: a wake-up per reply, since each reply's LLM actor quits. This
// clock remembers which actors set a timeout, and where, and passes on
// only their cancellations.
//
// A thread_safe_actor_clock by type only because CAF's coordinator returns
// that type; its own queue and loop stay unused.
class quiet_clock final : public caf::detail::thread_safe_actor_clock {
public:
  explicit quiet_clock(caf::detail::thread_safe_actor_clock& real);
  ~quiet_clock() override;

  // The thread of delayed messages and request timeouts: started with the
  // scheduler, stopped before its workers. What is still pending at the
  // stop is dropped, as CAF's clock drops its own.
  void start_dispatch(caf::actor_system& sys);
  void stop_dispatch();

  // What the thread sleeps until (min while awake, max with nothing
  // filed), how often filing a message or a timeout woke it, and how many
  // request timeouts are pending: for tests.
  time_point asleep_until();
  std::uint64_t wakeups();
  std::size_t request_timeouts();

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

  struct request_timeout {
    caf::strong_actor_ptr self; // the actor that waits for an answer
    caf::message_id id;         // of the answer it waits for
  };
  using timeout_map = std::multimap<time_point, request_timeout>;

  // Where an actor's timeouts are: bits of an entry in `timed_`.
  static constexpr std::uint8_t in_real = 1;  // CAF's clock holds some
  static constexpr std::uint8_t in_queue = 2; // `timeouts_` holds some

  // std::push_heap order: the earliest (then the first filed) on top.
  static bool later(const delayed& x, const delayed& y);

  void remember(caf::abstract_actor* self, std::uint8_t where);
  // Wakes the thread if it sleeps past `t`; under delayed_mutex_. True if
  // the caller must notify.
  bool wake_for(time_point t);
  // Removes `self`'s request timeouts (those with `id`, or all) without
  // waking the thread. Returned, so that the actor references they hold
  // are released after the lock.
  std::vector<request_timeout> drop_timeouts(caf::actor_id self,
                                             const caf::message_id* id);
  void dispatch_loop();

  caf::detail::thread_safe_actor_clock& real_;
  std::mutex mutex_;
  // Actors that set a timeout and have not terminated, and where.
  std::unordered_map<caf::actor_id, std::uint8_t> timed_;

  // Delayed messages and request timeouts, guarded by their own mutex.
  std::mutex delayed_mutex_;
  std::condition_variable wake_;
  std::vector<delayed> pending_; // a heap, the earliest on top
  timeout_map timeouts_;         // request timeouts, the earliest first
  std::unordered_multimap<caf::actor_id, timeout_map::iterator> timeouts_of_;
  std::uint64_t filed_ = 0;
  std::uint64_t wakeups_ = 0;
  // When the thread wakes by itself; time_point::min() while it is awake
  // or already notified, max() while it waits for any message at all.
  time_point asleep_until_ = time_point::min();
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace parley
