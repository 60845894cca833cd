#define CAF_SUITE pacer
#include <caf/test/dsl.hpp>

#include <chrono>
#include <memory>
#include <vector>

#include "actors/messages.hpp"
#include "actors/pacer.hpp"
#include "tests/actors/test_config.hpp"

using namespace parley;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

// When a stream was woken, in nanoseconds on the actor clock.
using wake_log = std::shared_ptr<std::vector<std::int64_t>>;

// A paced stream: sends the pacer each of `asks`, logs every wake.
caf::behavior stream(caf::event_based_actor* self, caf::actor pace,
                     std::vector<wake_at> asks, wake_log log) {
  for (auto& x : asks)
    self->send(pace, x);
  return {
      [=](next_atom) { log->push_back(pacer_time(self->clock().now())); },
  };
}

struct fixture : test_coordinator_fixture<parley::testing::test_config> {
  caf::actor pace = sys.spawn(pacer, pacer_slack);
  std::int64_t t0 = pacer_time(sys.clock().now());
  // The pacer holds no stream alive (an LLM actor's conversation does).
  std::vector<caf::actor> streams;

  ~fixture() {
    self->send_exit(pace, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::int64_t at(caf::timespan d) const {
    return t0 + std::chrono::nanoseconds{d}.count();
  }

  wake_log spawn_asking(std::vector<wake_at> asks) {
    auto log = std::make_shared<std::vector<std::int64_t>>();
    streams.push_back(sys.spawn(stream, pace, std::move(asks), log));
    sched.run();
    return log;
  }

  // One wake at each of `dues`, each asked for alone.
  wake_log spawn_stream(const std::vector<std::int64_t>& dues) {
    std::vector<wake_at> asks;
    for (auto due : dues)
      asks.push_back(wake_at{due});
    return spawn_asking(std::move(asks));
  }

  // `times` wakes 20 ms apart from 20 ms on, in one request.
  wake_log spawn_every_20ms(std::uint64_t times) {
    auto every = std::chrono::nanoseconds{milliseconds(20)}.count();
    return spawn_asking({wake_at{at(milliseconds(20)), every, times}});
  }

  void wait(caf::timespan d) {
    advance_time(d);
    sched.run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(pacer_tests, fixture)

CAF_TEST(streams wake at their due time and not before) {
  auto a = spawn_stream({at(milliseconds(20)), at(milliseconds(60))});
  auto b = spawn_stream({at(milliseconds(40))});
  wait(milliseconds(19));
  CAF_CHECK(a->empty());
  wait(milliseconds(1));
  CAF_REQUIRE_EQUAL(a->size(), 1u);
  auto first = a->front();
  CAF_CHECK_EQUAL(first, at(milliseconds(20)));
  CAF_CHECK(b->empty());
  wait(milliseconds(20));
  CAF_REQUIRE_EQUAL(b->size(), 1u);
  auto second = b->front();
  CAF_CHECK_EQUAL(second, at(milliseconds(40)));
  wait(milliseconds(20));
  CAF_REQUIRE_EQUAL(a->size(), 2u);
  auto third = a->back();
  CAF_CHECK_EQUAL(third, at(milliseconds(60)));
}

CAF_TEST(streams due within the slack wake with the earliest) {
  auto a = spawn_stream({at(milliseconds(20))});
  auto b = spawn_stream({at(milliseconds(20) + microseconds(900))});
  auto c = spawn_stream({at(milliseconds(20) + microseconds(1400))});
  wait(milliseconds(20));
  CAF_CHECK_EQUAL(a->size(), 1u);
  CAF_CHECK_EQUAL(b->size(), 1u); // 0.9 ms early, with a
  CAF_CHECK(c->empty());          // beyond the slack: its own tick
  wait(microseconds(1400));
  CAF_CHECK_EQUAL(c->size(), 1u);
}

CAF_TEST(an earlier wake rearms the timer and nobody wakes twice) {
  auto late = spawn_stream({at(milliseconds(100))});
  auto early = spawn_stream({at(milliseconds(80))});
  wait(milliseconds(80));
  CAF_CHECK_EQUAL(early->size(), 1u);
  CAF_CHECK(late->empty());
  wait(milliseconds(20));
  CAF_CHECK_EQUAL(late->size(), 1u);
  wait(milliseconds(200));
  CAF_CHECK_EQUAL(early->size(), 1u);
  CAF_CHECK_EQUAL(late->size(), 1u);
}

CAF_TEST(the tick after the next is armed ahead) {
  auto every = std::chrono::nanoseconds{milliseconds(20)}.count();
  spawn_asking({wake_at{at(milliseconds(20)), every, 3}});
  spawn_asking({wake_at{at(milliseconds(25)), every, 3}});
  auto& st = deref<caf::stateful_actor<pacer_state>>(pace).state;
  using ticks = std::vector<std::int64_t>;
  CAF_CHECK_EQUAL(st.ticks,
                  ticks({at(milliseconds(20)), at(milliseconds(25))}));
  wait(milliseconds(20)); // the clock holds 25 ms already; 40 ms is filed
  CAF_CHECK_EQUAL(st.ticks,
                  ticks({at(milliseconds(25)), at(milliseconds(40))}));
  wait(milliseconds(5));
  CAF_CHECK_EQUAL(st.ticks,
                  ticks({at(milliseconds(40)), at(milliseconds(45))}));
}

CAF_TEST(one request wakes a stream at each of its times) {
  auto log = spawn_every_20ms(3);
  wait(milliseconds(19));
  CAF_CHECK(log->empty());
  wait(milliseconds(1));
  wait(milliseconds(20));
  wait(milliseconds(20));
  CAF_REQUIRE_EQUAL(log->size(), 3u);
  CAF_CHECK_EQUAL(log->at(0), at(milliseconds(20)));
  CAF_CHECK_EQUAL(log->at(1), at(milliseconds(40)));
  CAF_CHECK_EQUAL(log->at(2), at(milliseconds(60)));
  wait(milliseconds(200));
  CAF_CHECK_EQUAL(log->size(), 3u);
  CAF_CHECK(deref<caf::stateful_actor<pacer_state>>(pace).state.heap.empty());
}

CAF_TEST(a stream that ended is dropped at its next wake) {
  auto log = spawn_every_20ms(1000);
  wait(milliseconds(20));
  CAF_CHECK_EQUAL(log->size(), 1u);
  self->send_exit(streams.back(), caf::exit_reason::user_shutdown);
  sched.run();
  streams.clear(); // the pacer holds no reference that keeps it
  wait(milliseconds(20));
  auto& st = deref<caf::stateful_actor<pacer_state>>(pace).state;
  CAF_CHECK(st.heap.empty());
  CAF_CHECK(st.ticks.empty());
  CAF_CHECK_EQUAL(log->size(), 1u);
}

CAF_TEST(a wake already due is sent at once) {
  wait(milliseconds(50));
  auto a = spawn_stream({at(milliseconds(10))});
  wait(caf::timespan{0});
  CAF_CHECK_EQUAL(a->size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
