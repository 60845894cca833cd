#pragma once

#include <mutex>
#include <unordered_set>

#include <caf/detail/thread_safe_actor_clock.hpp>

namespace parley {

// CAF's clock as the actors see it, minus a wake-up per terminating actor.
// An actor that terminates has its cancellable timeouts (request timeouts,
// `after` handlers) cancelled by an event to the clock thread, which wakes
// for it whether the actor had any or not: a wake-up per reply, since each
// reply's LLM actor quits, for actors that only ever use delayed messages
// (those cannot be cancelled) or no timer at all. This clock remembers which
// actors set a cancellable timeout and passes on only their cancellations;
// everything else goes straight to `real`, whose thread does the work.
//
// A thread_safe_actor_clock by type only because CAF's coordinator returns
// that type; its own queue and loop stay unused.
class quiet_clock final : public caf::detail::thread_safe_actor_clock {
public:
  explicit quiet_clock(caf::detail::thread_safe_actor_clock& real);

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
  void remember(caf::abstract_actor* self);

  caf::detail::thread_safe_actor_clock& real_;
  std::mutex mutex_;
  // Actors that set a cancellable timeout and have not terminated.
  std::unordered_set<caf::actor_id> timed_;
};

} // namespace parley
