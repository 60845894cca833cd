#pragma once

// The open connections of one kind, so that shutdown can reach them. Entries
// are weak: the registry never keeps a connection alive. Sessions add
// themselves once running and remove themselves in their destructor.

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace parley::net {

template <class T>
class registry {
public:
  void add(const std::shared_ptr<T>& x) {
    std::lock_guard<std::mutex> guard{mutex_};
    items_.emplace(x.get(), x);
  }

  void remove(T* x) {
    std::lock_guard<std::mutex> guard{mutex_};
    items_.erase(x);
  }

  // The live entries; calls on them happen outside the lock.
  std::vector<std::shared_ptr<T>> snapshot() const {
    std::vector<std::shared_ptr<T>> result;
    std::lock_guard<std::mutex> guard{mutex_};
    result.reserve(items_.size());
    for (auto& [ptr, weak] : items_)
      if (auto x = weak.lock())
        result.push_back(std::move(x));
    return result;
  }

private:
  mutable std::mutex mutex_;
  std::unordered_map<T*, std::weak_ptr<T>> items_;
};

} // namespace parley::net
