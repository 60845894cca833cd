#include "actors/quiet_clock.hpp"

#include <algorithm>
#include <utility>

#include <caf/abstract_actor.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/actor_system.hpp>
#include <caf/detail/set_thread_name.hpp>
#include <caf/group.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/sec.hpp>

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

std::size_t quiet_clock::request_timeouts() {
  std::lock_guard<std::mutex> guard{delayed_mutex_};
  return timeouts_.size();
}

void quiet_clock::dispatch_loop() {
  std::vector<delayed> due;
  std::vector<request_timeout> expired;
  std::unique_lock<std::mutex> lock{delayed_mutex_};
  while (!stopping_) {
    auto now = real_.now();
    while (!pending_.empty() && pending_.front().due <= now) {
      std::pop_heap(pending_.begin(), pending_.end(), later);
      due.push_back(std::move(pending_.back()));
      pending_.pop_back();
    }
    while (!timeouts_.empty() && timeouts_.begin()->first <= now) {
      auto i = timeouts_.begin();
      auto range = timeouts_of_.equal_range(i->second.self->id());
      for (auto j = range.first; j != range.second; ++j)
        if (j->second == i) {
          timeouts_of_.erase(j);
          break;
        }
      expired.push_back(std::move(i->second));
      timeouts_.erase(i);
    }
    if (!due.empty() || !expired.empty()) {
      lock.unlock();
      for (auto& x : due)
        x.receiver->enqueue(std::move(x.content), nullptr);
      // What CAF's clock sends: the answer's id, from the asker itself.
      for (auto& x : expired)
        x.self->get()->eq_impl(x.id, x.self, nullptr,
                               caf::sec::request_timeout);
      due.clear(); // drops the receivers outside the lock
      expired.clear();
      lock.lock();
      continue;
    }
    // Set under the lock that filing takes: anything filed after this line
    // sees the time and wakes the thread if it is due earlier.
    asleep_until_ = time_point::max();
    if (!pending_.empty())
      asleep_until_ = pending_.front().due;
    if (!timeouts_.empty())
      asleep_until_ = std::min(asleep_until_, timeouts_.begin()->first);
    if (asleep_until_ == time_point::max())
      wake_.wait(lock);
    else
      wake_.wait_until(lock, asleep_until_);
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

void quiet_clock::remember(caf::abstract_actor* self, std::uint8_t where) {
  std::lock_guard<std::mutex> guard{mutex_};
  timed_[self->id()] |= where;
}

bool quiet_clock::wake_for(time_point t) {
  if (t >= asleep_until_)
    return false;
  asleep_until_ = time_point::min(); // one notification is enough
  ++wakeups_;
  return true;
}

std::vector<quiet_clock::request_timeout>
quiet_clock::drop_timeouts(caf::actor_id self, const caf::message_id* id) {
  std::vector<request_timeout> dropped;
  std::lock_guard<std::mutex> guard{delayed_mutex_};
  auto range = timeouts_of_.equal_range(self);
  for (auto j = range.first; j != range.second;) {
    if (id != nullptr && j->second->second.id != *id) {
      ++j;
      continue;
    }
    dropped.push_back(std::move(j->second->second));
    timeouts_.erase(j->second);
    j = timeouts_of_.erase(j);
  }
  return dropped;
}

void quiet_clock::set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                                       caf::atom_value type, uint64_t id) {
  remember(self, in_real);
  real_.set_ordinary_timeout(t, self, type, id);
}

void quiet_clock::set_multi_timeout(time_point t, caf::abstract_actor* self,
                                    caf::atom_value type, uint64_t id) {
  remember(self, in_real);
  real_.set_multi_timeout(t, self, type, id);
}

void quiet_clock::set_request_timeout(time_point t, caf::abstract_actor* self,
                                      caf::message_id id) {
  remember(self, in_queue);
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{delayed_mutex_};
    auto i = timeouts_.emplace(
        t, request_timeout{caf::actor_cast<caf::strong_actor_ptr>(self), id});
    timeouts_of_.emplace(self->id(), i);
    wake = wake_for(t);
  }
  if (wake)
    wake_.notify_one();
}

void quiet_clock::cancel_ordinary_timeout(caf::abstract_actor* self,
                                          caf::atom_value type) {
  real_.cancel_ordinary_timeout(self, type);
}

void quiet_clock::cancel_request_timeout(caf::abstract_actor* self,
                                         caf::message_id id) {
  drop_timeouts(self->id(), &id);
}

void quiet_clock::cancel_timeouts(caf::abstract_actor* self) {
  std::uint8_t where = 0;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = timed_.find(self->id());
    if (i == timed_.end())
      return; // nothing of this actor's can be pending
    where = i->second;
    timed_.erase(i);
  }
  if ((where & in_queue) != 0)
    drop_timeouts(self->id(), nullptr);
  if ((where & in_real) != 0)
    real_.cancel_timeouts(self);
}

void quiet_clock::schedule_message(time_point t, caf::strong_actor_ptr receiver,
                                   caf::mailbox_element_ptr content) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{delayed_mutex_};
    pending_.push_back({t, filed_++, std::move(receiver), std::move(content)});
    std::push_heap(pending_.begin(), pending_.end(), later);
    wake = wake_for(t);
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
  // Destroyed after the lock is released.
  std::vector<delayed> dropped;
  timeout_map dropped_timeouts;
  {
    std::lock_guard<std::mutex> guard{delayed_mutex_};
    dropped.swap(pending_);
    dropped_timeouts.swap(timeouts_);
    timeouts_of_.clear();
  }
}

} // namespace parley
