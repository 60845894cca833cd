#pragma once

#include <algorithm>
#include <chrono>

namespace parley::storage {

// Delays between reconnect attempts: at once (a connection cut while the
// server is up comes straight back), then `first`, doubling up to `cap`.
class backoff {
public:
  using duration = std::chrono::milliseconds;

  backoff(duration first, duration cap) : first_(first), cap_(cap) {
    // nop
  }

  duration next() {
    auto result = next_;
    next_ = next_ == duration::zero() ? first_ : std::min(next_ * 2, cap_);
    return result;
  }

  void reset() {
    next_ = duration::zero();
  }

private:
  duration first_;
  duration cap_;
  duration next_ = duration::zero();
};

} // namespace parley::storage
