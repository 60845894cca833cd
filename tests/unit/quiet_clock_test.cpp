// The clock parley's actors see (actors/quiet_clock.hpp): an actor's
// termination reaches CAF's clock thread only if the actor set a cancellable
// timeout; timers still work in a real actor system that runs it.
#define CAF_SUITE quiet_clock
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include <caf/all.hpp>

#include "actors/quiet_clock.hpp"
#include "actors/quiet_scheduler.hpp"
#include "actors/spawn_function.hpp"

using namespace parley;
using namespace std::chrono_literals;

namespace {

// Counts what reaches CAF's clock; its own loop never runs.
struct counting_clock : caf::detail::thread_safe_actor_clock {
  int timeouts_set = 0;
  int cancellations = 0;

  void set_request_timeout(time_point, caf::abstract_actor*,
                           caf::message_id) override {
    ++timeouts_set;
  }
  void set_ordinary_timeout(time_point, caf::abstract_actor*, caf::atom_value,
                            uint64_t) override {
    ++timeouts_set;
  }
  void cancel_timeouts(caf::abstract_actor*) override {
    ++cancellations;
  }
};

struct quiet_config : caf::actor_system_config {
  quiet_config() {
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
    use_quiet_scheduler(*this);
  }
};

using ping_atom = caf::atom_constant<caf::atom("ping")>;

} // namespace

CAF_TEST(only actors that set a cancellable timeout reach the clock thread) {
  quiet_config cfg;
  caf::actor_system sys{cfg};
  // Two actors, for their addresses and ids only.
  auto a = spawn_function(sys, [](caf::event_based_actor*) {});
  auto b = spawn_function(sys, [](caf::event_based_actor*) {});
  auto* pa = caf::actor_cast<caf::abstract_actor*>(a);
  auto* pb = caf::actor_cast<caf::abstract_actor*>(b);
  counting_clock real;
  quiet_clock clock{real};
  clock.cancel_timeouts(pa);
  CAF_CHECK_EQUAL(real.cancellations, 0);
  clock.set_request_timeout(clock.now() + 1s, pb, caf::make_message_id());
  CAF_CHECK_EQUAL(real.timeouts_set, 1);
  clock.cancel_timeouts(pa);
  CAF_CHECK_EQUAL(real.cancellations, 0);
  clock.cancel_timeouts(pb);
  CAF_CHECK_EQUAL(real.cancellations, 1);
  // Its timeouts are gone with it: a second termination passes nothing on.
  clock.cancel_timeouts(pb);
  CAF_CHECK_EQUAL(real.cancellations, 1);
  clock.set_ordinary_timeout(clock.now() + 1s, pa, caf::atom("t"), 1);
  clock.cancel_timeouts(pa);
  CAF_CHECK_EQUAL(real.cancellations, 2);
}

CAF_TEST(timers work in an actor system that runs the quiet clock) {
  quiet_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  // A request nobody answers times out.
  auto silent = spawn_function(sys, [](caf::event_based_actor* me) {
    me->become([](ping_atom) { return caf::delegated<void>{}; });
  });
  bool timed_out = false;
  self->request(silent, 50ms, ping_atom::value)
      .receive([](caf::message&) {},
               [&](caf::error& err) {
                 timed_out = err == caf::sec::request_timeout;
               });
  CAF_CHECK(timed_out);
  // A delayed message arrives.
  self->delayed_send(self, 20ms, 42);
  int got = 0;
  self->receive([&](int x) { got = x; }, caf::after(5s) >> [] {});
  CAF_CHECK_EQUAL(got, 42);
  // An actor with a request timeout pending terminates cleanly (its
  // cancellation goes through to CAF's clock).
  auto asker = spawn_function(sys, [silent](caf::event_based_actor* me) {
    me->request(silent, 10s, ping_atom::value).then([](caf::message&) {});
    me->quit();
  });
  self->wait_for(asker);
  self->send_exit(silent, caf::exit_reason::user_shutdown);
}

CAF_TEST(a delayed message wakes the thread only when due before it would) {
  quiet_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  counting_clock real;
  quiet_clock clock{real};
  clock.start_dispatch(sys);
  auto t0 = clock.now();
  auto file = [&](std::chrono::milliseconds after, int x) {
    clock.schedule_message(
        t0 + after, caf::actor_cast<caf::strong_actor_ptr>(self),
        caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, x));
  };
  file(400ms, 2);
  // Until the thread sleeps for it (it may still be starting up).
  for (int i = 0; i < 500 && clock.asleep_until() != t0 + 400ms; ++i)
    std::this_thread::sleep_for(10ms);
  CAF_REQUIRE(clock.asleep_until() == t0 + 400ms);
  auto before = clock.wakeups();
  file(600ms, 3); // after the one it sleeps for: filed quietly
  CAF_CHECK_EQUAL(clock.wakeups(), before);
  file(200ms, 1); // before it: the thread must wake to sleep less
  CAF_CHECK_EQUAL(clock.wakeups(), before + 1);
  std::vector<int> got;
  for (int i = 0; i < 3; ++i)
    self->receive([&](int x) { got.push_back(x); }, caf::after(5s) >> [] {});
  CAF_CHECK_EQUAL(got, std::vector<int>({1, 2, 3}));
  CAF_CHECK(clock.now() >= t0 + 600ms);
  clock.stop_dispatch();
}
