#define CAF_SUITE ready_queue
#include <caf/test/unit_test.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/ready_queue.hpp"

using parley::net::inbox_owner;
using parley::net::ready_queue;

namespace {

// Records on which thread and in which order its inbox was taken.
struct recorder final : inbox_owner {
  std::string name;
  std::vector<std::string>* log = nullptr;
  std::thread::id taken_on;

  recorder(std::string x, std::vector<std::string>* out)
      : name(std::move(x)), log(out) {
    // nop
  }

  void take_inbox() override {
    taken_on = std::this_thread::get_id();
    log->push_back(name);
  }
};

struct fixture {
  boost::asio::io_context ioc;
  ready_queue& ready = boost::asio::use_service<ready_queue>(ioc);
  std::vector<std::string> log;

  std::shared_ptr<recorder> make(std::string name) {
    return std::make_shared<recorder>(std::move(name), &log);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(ready_queue_tests, fixture)

CAF_TEST(connections ready before the drain share one handler) {
  std::vector<std::shared_ptr<recorder>> conns;
  // Added from another thread, as actor threads do.
  std::thread actor_thread{[&] {
    for (int i = 0; i < 100; ++i) {
      conns.push_back(make("c" + std::to_string(i)));
      ready.add(conns.back());
    }
  }};
  actor_thread.join();
  CAF_CHECK_EQUAL(ioc.run(), 1u); // one drain, not one post per connection
  CAF_REQUIRE_EQUAL(log.size(), 100u);
  for (std::size_t i = 0; i < log.size(); ++i)
    CAF_CHECK_EQUAL(log[i], "c" + std::to_string(i));
  CAF_CHECK(conns.front()->taken_on == std::this_thread::get_id());
}

CAF_TEST(a connection ready after a drain gets the next one) {
  auto a = make("a");
  auto b = make("b");
  ready.add(a);
  CAF_CHECK_EQUAL(ioc.run(), 1u);
  ioc.restart();
  ready.add(b);
  ready.add(a);
  CAF_CHECK_EQUAL(ioc.run(), 1u);
  CAF_CHECK_EQUAL(log.size(), 3u);
  if (log.size() == 3) {
    CAF_CHECK_EQUAL(log[0], "a");
    CAF_CHECK_EQUAL(log[1], "b");
    CAF_CHECK_EQUAL(log[2], "a");
  }
}

CAF_TEST(connections still waiting when the io_context goes are released) {
  std::weak_ptr<recorder> watch;
  {
    boost::asio::io_context other;
    auto x = make("x");
    watch = x;
    boost::asio::use_service<ready_queue>(other).add(std::move(x));
  } // never run
  CAF_CHECK(watch.expired());
  CAF_CHECK(log.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
