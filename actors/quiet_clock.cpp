#include "actors/quiet_clock.hpp"

#include <caf/abstract_actor.hpp>
#include <caf/group.hpp>
#include <caf/mailbox_element.hpp>

namespace parley {

quiet_clock::quiet_clock(caf::detail::thread_safe_actor_clock& real)
    : real_(real) {
  // nop
}

quiet_clock::time_point quiet_clock::now() const noexcept {
  return real_.now();
}

quiet_clock::duration_type
quiet_clock::difference(caf::atom_value measurement, long units, time_point t0,
                        time_point t1) const noexcept {
  return real_.difference(measurement, units, t0, t1);
}

void quiet_clock::remember(caf::abstract_actor* self) {
  std::lock_guard<std::mutex> guard{mutex_};
  timed_.insert(self->id());
}

void quiet_clock::set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                                       caf::atom_value type, uint64_t id) {
  remember(self);
  real_.set_ordinary_timeout(t, self, type, id);
}

void quiet_clock::set_multi_timeout(time_point t, caf::abstract_actor* self,
                                    caf::atom_value type, uint64_t id) {
  remember(self);
  real_.set_multi_timeout(t, self, type, id);
}

void quiet_clock::set_request_timeout(time_point t, caf::abstract_actor* self,
                                      caf::message_id id) {
  remember(self);
  real_.set_request_timeout(t, self, id);
}

void quiet_clock::cancel_ordinary_timeout(caf::abstract_actor* self,
                                          caf::atom_value type) {
  real_.cancel_ordinary_timeout(self, type);
}

void quiet_clock::cancel_request_timeout(caf::abstract_actor* self,
                                         caf::message_id id) {
  real_.cancel_request_timeout(self, id);
}

void quiet_clock::cancel_timeouts(caf::abstract_actor* self) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (timed_.erase(self->id()) == 0)
      return; // nothing of this actor's can be pending
  }
  real_.cancel_timeouts(self);
}

void quiet_clock::schedule_message(time_point t, caf::strong_actor_ptr receiver,
                                   caf::mailbox_element_ptr content) {
  real_.schedule_message(t, std::move(receiver), std::move(content));
}

void quiet_clock::schedule_message(time_point t, caf::group target,
                                   caf::strong_actor_ptr sender,
                                   caf::message content) {
  real_.schedule_message(t, std::move(target), std::move(sender),
                         std::move(content));
}

void quiet_clock::cancel_all() {
  real_.cancel_all();
}

} // namespace parley
