#include "actors/worker_flush.hpp"

#include <utility>
#include <vector>

namespace parley {

namespace {

thread_local bool is_worker = false;
thread_local std::vector<std::weak_ptr<flushable>> waiting;

} // namespace

bool flush_on_this_worker(std::weak_ptr<flushable> x) {
  if (!is_worker)
    return false;
  waiting.push_back(std::move(x));
  return true;
}

void become_flushing_worker() {
  is_worker = true;
}

void flush_this_worker(bool busy) {
  // By index, should a flush ever hand out more; the list keeps its capacity.
  for (std::size_t i = 0; i < waiting.size(); ++i)
    if (auto x = waiting[i].lock())
      x->flush(busy);
  waiting.clear();
}

} // namespace parley
