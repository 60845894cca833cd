#pragma once

// The connections of one io_context whose frame inbox has frames waiting.
// An actor thread hands frames to many connections in a row, one per
// conversation it runs; a handler posted per connection costs the io thread
// a wake-up each (asio interrupts its epoll_wait with an epoll_ctl and
// signals a condition variable). Here the first connection to become ready
// posts one drain, and the connections ready before it runs ride along.

#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace parley::net {

// A connection with a frame inbox.
class inbox_owner {
public:
  // On the connection's io thread: send what the inbox holds.
  virtual void take_inbox() = 0;

protected:
  ~inbox_owner() = default;
};

class ready_queue : public boost::asio::io_context::service {
public:
  static boost::asio::io_context::id id;

  explicit ready_queue(boost::asio::io_context& ioc);

  // Any thread: `x` gets one take_inbox() call on the io thread, soon.
  void add(std::shared_ptr<inbox_owner> x);

private:
  void shutdown() override;
  void drain();

  std::mutex mutex_;
  std::vector<std::shared_ptr<inbox_owner>> ready_;
  // Only the io thread touches it; kept to reuse its capacity.
  std::vector<std::shared_ptr<inbox_owner>> draining_;
};

} // namespace parley::net
