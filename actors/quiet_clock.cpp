#include "actors/quiet_clock.hpp"

#include <algorithm>
#include <utility>

#include <caf/abstract_actor.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/actor_system.hpp>
#include <caf/detail/set_thread_name.hpp>
#include <caf/group.hpp>
#include <caf/mailbox_element.hpp>

namespace parley {

quiet_clock::quiet_clock(caf::detail::thread_safe_actor_clock& real)
    : real_(real) {
  // nop
}

bool quiet_clock::later(const delayed& x, const delayed& y) {
  return x.due != y.due ? x.due > y.due : x.seq > y.seq;
}

quiet_clock::~quiet_clock() {
  stop_dispatch();
}

void quiet_clock::start_dispatch(caf::actor_system& sys) {
  thread_ = std::thread{[this, &sys] {
    caf::detail::set_thread_name("parley.delayed");
    sys.thread_started();
    dispatch_loop();
    sys.thread_terminates();
  }};
}

void quiet_clock::stop_dispatch() {
  if (!thread_.joinable())
    return;
  {
    std::lock_guard<std::mutex> guard{delayed_mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  cancel_all();
}

quiet_clock::time_point quiet_clock::asleep_until() {
  std::lock_guard<std::mutex> guard{delayed_mutex_};
  return asleep_until_;
}

std::uint64_t quiet_clock::wakeups() {
  std::lock_guard<std::mutex> guard{delayed_mutex_};
  return wakeups_;
}

void quiet_clock::dispatch_loop() {
  std::vector<delayed> due;
  std::unique_lock<std::mutex> lock{delayed_mutex_};
  while (!stopping_) {
    auto now = real_.now();
    while (!pending_.empty() && pending_.front().due <= now) {
      std::pop_heap(pending_.begin(), pending_.end(), later);
      due.push_back(std::move(pending_.back()));
      pending_.pop_back();
    }
    if (!due.empty()) {
      lock.unlock();
      for (auto& x : due)
        x.receiver->enqueue(std::move(x.content), nullptr);
      due.clear(); // drops the receivers outside the lock
      lock.lock();
      continue;
    }
    // Set under the lock that schedule_message takes: a message filed
    // after this line sees the time and wakes the thread if it is earlier.
    if (pending_.empty()) {
      asleep_until_ = time_point::max();
      wake_.wait(lock);
    } else {
      asleep_until_ = pending_.front().due;
      wake_.wait_until(lock, asleep_until_);
    }
    asleep_until_ = time_point::min();
  }
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
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{delayed_mutex_};
    pending_.push_back({t, filed_++, std::move(receiver), std::move(content)});
    std::push_heap(pending_.begin(), pending_.end(), later);
    if (t < asleep_until_) {
      asleep_until_ = time_point::min(); // one notification is enough
      ++wakeups_;
      wake = true;
    }
  }
  if (wake)
    wake_.notify_one();
}

void quiet_clock::schedule_message(time_point t, caf::group target,
                                   caf::strong_actor_ptr sender,
                                   caf::message content) {
  real_.schedule_message(t, std::move(target), std::move(sender),
                         std::move(content));
}

void quiet_clock::cancel_all() {
  real_.cancel_all();
  std::vector<delayed> dropped; // destroyed after the lock is released
  {
    std::lock_guard<std::mutex> guard{delayed_mutex_};
    dropped.swap(pending_);
  }
}

} // namespace parley
