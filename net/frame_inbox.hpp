#pragma once

// Frames handed from actor threads to a connection's io thread. A frame
// handed over on its own costs a handler and often a wake-up of the io
// thread; the inbox needs one hand-over per batch (net/ready_queue.hpp): the
// frames that arrive before the io thread takes them ride along.

#include <mutex>
#include <utility>
#include <vector>

#include "actors/event.hpp"

namespace parley::net {

class frame_inbox {
public:
  // Any thread. True when the inbox was empty: the caller hands the
  // connection to its ready queue, which has the io thread take() once.
  bool put(frame_ptr frame) {
    std::lock_guard<std::mutex> guard{mutex_};
    frames_.push_back(std::move(frame));
    return frames_.size() == 1;
  }

  // The io thread (or a worker that writes for it, net/ws_session.hpp):
  // everything put so far, oldest first. An idle connection keeps no inbox
  // memory.
  std::vector<frame_ptr> take() {
    std::lock_guard<std::mutex> guard{mutex_};
    return std::exchange(frames_, {});
  }

  // Any thread.
  bool empty() {
    std::lock_guard<std::mutex> guard{mutex_};
    return frames_.empty();
  }

private:
  std::mutex mutex_;
  std::vector<frame_ptr> frames_;
};

} // namespace parley::net
