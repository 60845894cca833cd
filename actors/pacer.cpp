#include "actors/pacer.hpp"

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace parley {

namespace {

using self_ptr = caf::stateful_actor<pacer_state>*;

bool later(const pacer_state::entry& x, const pacer_state::entry& y) {
  return x.due > y.due;
}

void arm(self_ptr self, std::int64_t due) {
  self->state.armed = due;
  auto delay = std::max<std::int64_t>(0, due - pacer_time(self->clock().now()));
  self->delayed_send(self, std::chrono::nanoseconds(delay), pacer_tick{due});
}

} // namespace

std::int64_t pacer_time(caf::actor_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

caf::behavior pacer(self_ptr self, caf::timespan slack) {
  auto slack_ns = std::chrono::nanoseconds{slack}.count();
  return {
      [=](const wake_at& x) {
        auto& st = self->state;
        if (x.times == 0)
          return;
        st.heap.push_back({x.due, x.every, x.times,
                           caf::actor_cast<caf::actor_addr>(
                             self->current_sender())});
        std::push_heap(st.heap.begin(), st.heap.end(), later);
        if (x.due < st.armed)
          arm(self, x.due);
      },
      [=](const pacer_tick& x) {
        auto& st = self->state;
        if (x.due != st.armed)
          return;
        st.armed = std::numeric_limits<std::int64_t>::max();
        auto until = pacer_time(self->clock().now()) + slack_ns;
        while (!st.heap.empty() && st.heap.front().due <= until) {
          std::pop_heap(st.heap.begin(), st.heap.end(), later);
          auto& e = st.heap.back();
          auto whom = caf::actor_cast<caf::actor>(e.whom);
          if (whom)
            self->send(whom, next_atom::value);
          if (!whom || --e.left == 0) {
            st.heap.pop_back();
            continue;
          }
          e.due += e.every;
          std::push_heap(st.heap.begin(), st.heap.end(), later);
        }
        if (!st.heap.empty())
          arm(self, st.heap.front().due);
      },
  };
}

} // namespace parley
