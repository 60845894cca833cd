#include "net/ready_queue.hpp"

#include <utility>

#include <boost/asio/post.hpp>

namespace parley::net {

boost::asio::io_context::id ready_queue::id;

ready_queue::ready_queue(boost::asio::io_context& ioc)
    : boost::asio::io_context::service(ioc) {
  // nop
}

void ready_queue::add(std::shared_ptr<inbox_owner> x) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    ready_.push_back(std::move(x));
    if (ready_.size() > 1)
      return; // a drain is on its way
  }
  // The io_context destroys its handlers before its services: the drain
  // never outlives this.
  boost::asio::post(get_io_context(), [this] { drain(); });
}

void ready_queue::drain() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    std::swap(ready_, draining_);
  }
  for (auto& x : draining_)
    x->take_inbox();
  draining_.clear();
}

void ready_queue::shutdown() {
  // The io_context is going away: connections still waiting are released
  // now, while every one of its services (the reactor their sockets are
  // registered with) still exists, not when the services are destroyed.
  std::lock_guard<std::mutex> guard{mutex_};
  ready_.clear();
  draining_.clear();
}

} // namespace parley::net
