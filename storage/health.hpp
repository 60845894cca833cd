#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace parley::storage {

// Whether the database answers, for /healthz: written by the storage lanes
// (one connection each), read from any thread (network threads must not
// wait for an actor, which may be stuck in a slow reconnect). Degraded while
// any lane cannot reach the database.
class health {
public:
  struct status {
    bool ok = true;
    std::string reason; // why not, e.g. "postgresql: ... Connection refused"
  };

  bool ok() const noexcept {
    return ok_.load(std::memory_order_acquire);
  }

  status get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    if (down_.empty())
      return {};
    return {false, down_.begin()->second};
  }

  void set_degraded(std::string reason, std::size_t lane = 0) {
    std::lock_guard<std::mutex> guard{mtx_};
    down_[lane] = std::move(reason);
    ok_.store(false, std::memory_order_release);
  }

  void set_ok(std::size_t lane = 0) {
    std::lock_guard<std::mutex> guard{mtx_};
    down_.erase(lane);
    ok_.store(down_.empty(), std::memory_order_release);
  }

private:
  mutable std::mutex mtx_;
  std::atomic<bool> ok_{true};
  std::map<std::size_t, std::string> down_; // lane -> reason
};

} // namespace parley::storage
