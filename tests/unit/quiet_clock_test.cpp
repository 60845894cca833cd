// The clock parley's actors see (actors/quiet_clock.hpp): request timeouts
// and delayed messages stay on its own thread, which filing wakes only when
// due earlier and cancelling never wakes; an actor's termination reaches
// CAF's clock thread only if the actor set a timeout there; timers still
// work in a real actor system that runs it.
#define CAF_SUITE quiet_clock
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <thread>
#include <vector>

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

// A quiet clock in front of a counting one, and two actors, for their
// addresses and ids only.
struct two_actors {
  quiet_config cfg;
  caf::actor_system sys{cfg};
  caf::actor a = spawn_function(sys, [](caf::event_based_actor*) {});
  caf::actor b = spawn_function(sys, [](caf::event_based_actor*) {});
  caf::abstract_actor* pa = caf::actor_cast<caf::abstract_actor*>(a);
  caf::abstract_actor* pb = caf::actor_cast<caf::abstract_actor*>(b);
  counting_clock real;
  quiet_clock clock{real};
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(clock_in_front, two_actors)

CAF_TEST(only actors that set a timeout there reach the clock thread) {
  clock.cancel_timeouts(pa);
  CAF_CHECK_EQUAL(real.cancellations, 0);
  // A request timeout stays here, and so does its actor's termination.
  clock.set_request_timeout(clock.now() + 1s, pb, caf::make_message_id());
  CAF_CHECK_EQUAL(real.timeouts_set, 0);
  CAF_CHECK_EQUAL(clock.request_timeouts(), 1u);
  clock.cancel_timeouts(pb);
  CAF_CHECK_EQUAL(real.cancellations, 0);
  CAF_CHECK_EQUAL(clock.request_timeouts(), 0u);
  // An `after` timeout goes to CAF's clock, and so does the cancellation.
  clock.set_ordinary_timeout(clock.now() + 1s, pa, caf::atom("t"), 1);
  CAF_CHECK_EQUAL(real.timeouts_set, 1);
  clock.cancel_timeouts(pa);
  CAF_CHECK_EQUAL(real.cancellations, 1);
  // Its timeouts are gone with it: a second termination passes nothing on.
  clock.cancel_timeouts(pa);
  CAF_CHECK_EQUAL(real.cancellations, 1);
}

CAF_TEST(a request timeout is cancelled by its own id or its actor) {
  auto first = caf::make_message_id(1).response_id();
  auto second = caf::make_message_id(2).response_id();
  auto t = clock.now() + 1s;
  clock.set_request_timeout(t, pa, first);
  clock.set_request_timeout(t, pa, second);
  clock.set_request_timeout(t, pb, first);
  CAF_CHECK_EQUAL(clock.request_timeouts(), 3u);
  // The answer to a's first request came: only that timeout goes.
  clock.cancel_request_timeout(pa, first);
  CAF_CHECK_EQUAL(clock.request_timeouts(), 2u);
  clock.cancel_request_timeout(pa, first);
  CAF_CHECK_EQUAL(clock.request_timeouts(), 2u);
  // a quits: its other one goes, b's stays.
  clock.cancel_timeouts(pa);
  CAF_CHECK_EQUAL(clock.request_timeouts(), 1u);
  clock.cancel_request_timeout(pb, first);
  CAF_CHECK_EQUAL(clock.request_timeouts(), 0u);
  CAF_CHECK_EQUAL(real.cancellations, 0);
}

CAF_TEST_FIXTURE_SCOPE_END()

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
  auto& clock = dynamic_cast<quiet_clock&>(sys.clock());
  CAF_CHECK_EQUAL(clock.request_timeouts(), 0u);
  // A delayed message arrives.
  self->delayed_send(self, 20ms, 42);
  int got = 0;
  self->receive([&](int x) { got = x; }, caf::after(5s) >> [] {});
  CAF_CHECK_EQUAL(got, 42);
  // An actor with a request timeout pending terminates cleanly, and the
  // timeout (which holds the actor) goes with it.
  auto asker = spawn_function(sys, [silent](caf::event_based_actor* me) {
    me->request(silent, 10s, ping_atom::value).then([](caf::message&) {});
    me->quit();
  });
  self->wait_for(asker);
  // CAF cancels an actor's timeouts just after it reports its end.
  for (int i = 0; i < 500 && clock.request_timeouts() > 0; ++i)
    std::this_thread::sleep_for(1ms);
  CAF_CHECK_EQUAL(clock.request_timeouts(), 0u);
  self->send_exit(silent, caf::exit_reason::user_shutdown);
}

namespace {

// A quiet clock whose thread runs, and an actor to file messages for.
struct running_clock {
  quiet_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  counting_clock real;
  quiet_clock clock{real};
  quiet_clock::time_point t0;

  running_clock() {
    clock.start_dispatch(sys);
    t0 = clock.now();
  }

  ~running_clock() {
    clock.stop_dispatch();
  }

  void file(std::chrono::milliseconds after, int x) {
    clock.schedule_message(
        t0 + after, caf::actor_cast<caf::strong_actor_ptr>(self),
        caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, x));
  }

  // Until the thread sleeps until t0 + after (it may still be starting up,
  // or on its way back to sleep).
  bool asleep_until(std::chrono::milliseconds after) {
    for (int i = 0; i < 5000 && clock.asleep_until() != t0 + after; ++i)
      std::this_thread::sleep_for(1ms);
    return clock.asleep_until() == t0 + after;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(thread_running, running_clock)

CAF_TEST(a delayed message wakes the thread only when due before it would) {
  file(400ms, 2);
  CAF_REQUIRE(asleep_until(400ms));
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
}

CAF_TEST(a request timeout wakes the thread only when due before it would) {
  file(400ms, 1);
  CAF_REQUIRE(asleep_until(400ms));
  auto before = clock.wakeups();
  auto* me = caf::actor_cast<caf::abstract_actor*>(self);
  auto late = caf::make_message_id(1).response_id();
  auto early = caf::make_message_id(2).response_id();
  // Due after the message it sleeps for: filed and cancelled quietly.
  clock.set_request_timeout(t0 + 600ms, me, late);
  clock.cancel_request_timeout(me, late);
  CAF_CHECK_EQUAL(clock.wakeups(), before);
  // Due before it: the thread must wake to sleep less; the cancellation,
  // once it sleeps for the timeout, still wakes nobody.
  clock.set_request_timeout(t0 + 200ms, me, early);
  CAF_CHECK_EQUAL(clock.wakeups(), before + 1);
  CAF_REQUIRE(asleep_until(200ms));
  clock.cancel_request_timeout(me, early);
  CAF_CHECK_EQUAL(clock.wakeups(), before + 1);
  // The thread still sleeps for the message and delivers it.
  int got = 0;
  self->receive([&](int x) { got = x; }, caf::after(5s) >> [] {});
  CAF_CHECK_EQUAL(got, 1);
  CAF_CHECK_EQUAL(clock.request_timeouts(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
