#include "actors/pacer.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace parley {

namespace {

using self_ptr = caf::stateful_actor<pacer_state>*;

bool later(const pacer_state::entry& x, const pacer_state::entry& y) {
  return x.due > y.due;
}

void arm(self_ptr self, std::int64_t due) {
  self->state.ticks.push_back(due);
  auto delay = std::max<std::int64_t>(0, due - pacer_time(self->clock().now()));
  self->delayed_send(self, std::chrono::nanoseconds(delay), pacer_tick{due});
}

// The earliest due time after `bound` in the subtree of heap[i]; max if
// none. Visits only the entries at or before `bound` (a child is never
// earlier than its parent), those of one tick, and allocates nothing: it
// runs on every tick.
std::int64_t earliest_after(const std::vector<pacer_state::entry>& heap,
                            std::int64_t bound, std::size_t i = 0) {
  if (i >= heap.size())
    return std::numeric_limits<std::int64_t>::max();
  if (heap[i].due > bound)
    return heap[i].due;
  return std::min(earliest_after(heap, bound, 2 * i + 1),
                  earliest_after(heap, bound, 2 * i + 2));
}

// Keeps a tick armed at or before the earliest due time, and one for the
// first due time beyond that tick's slack.
void arm_ahead(self_ptr self, std::int64_t slack_ns) {
  auto& st = self->state;
  if (st.heap.empty())
    return;
  auto first = st.heap.front().due;
  auto armed_within = [&st](std::int64_t from, std::int64_t to) {
    return std::any_of(st.ticks.begin(), st.ticks.end(),
                       [=](std::int64_t t) { return t > from && t <= to; });
  };
  if (!armed_within(std::numeric_limits<std::int64_t>::min(), first))
    arm(self, first);
  auto second = earliest_after(st.heap, first + slack_ns);
  if (second != std::numeric_limits<std::int64_t>::max()
      && !armed_within(first, second))
    arm(self, second);
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
        arm_ahead(self, slack_ns);
      },
      [=](const pacer_tick& x) {
        auto& st = self->state;
        auto sent = std::find(st.ticks.begin(), st.ticks.end(), x.due);
        if (sent != st.ticks.end())
          st.ticks.erase(sent);
        // What is due within the slack of this tick, or already late: a
        // stream beyond that waits for the tick armed for it.
        auto until
            = std::max(x.due + slack_ns, pacer_time(self->clock().now()));
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
        arm_ahead(self, slack_ns);
      },
  };
}

} // namespace parley
