#include "actors/worker_flush.hpp"

#include <utility>
#include <vector>

namespace parley {

namespace {

thread_local bool is_worker = false;
thread_local std::vector<std::shared_ptr<flushable>> waiting;

} // namespace

bool flush_on_this_worker(std::shared_ptr<flushable> x) {
  if (!is_worker)
    return false;
  waiting.push_back(std::move(x));
  return true;
}

void become_flushing_worker() {
  is_worker = true;
}

void flush_this_worker(bool busy) {
  // By index: the list may grow while it is flushed. It keeps its capacity.
  for (std::size_t i = 0; i < waiting.size(); ++i)
    waiting[i]->flush(busy);
  waiting.clear();
}

} // namespace parley
