// Output left for a worker to write (actors/worker_flush.hpp): off a worker
// nothing is accepted; on one, each flushable gets one flush on that thread
// once the worker runs out of work, or a busy flush after a long run.
#define CAF_SUITE worker_flush
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <caf/all.hpp>

#include "actors/quiet_scheduler.hpp"
#include "actors/spawn_function.hpp"
#include "actors/worker_flush.hpp"

using namespace parley;
using namespace std::chrono_literals;

namespace {

struct recorder : flushable {
  std::thread::id thread;
  int calls = 0;
  bool busy = false;
  std::promise<void> flushed;

  void flush(bool b) override {
    thread = std::this_thread::get_id();
    busy = b;
    if (++calls == 1)
      flushed.set_value();
  }
};

struct quiet_config : caf::actor_system_config {
  explicit quiet_config(std::size_t workers = 2) {
    set("scheduler.max-threads", workers);
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
    // As the engine runs it: one message per turn.
    set("scheduler.max-throughput", std::size_t{1});
    use_quiet_scheduler(*this);
  }
};

using more_atom = caf::atom_constant<caf::atom("more")>;

} // namespace

CAF_TEST(a thread that is no worker is refused) {
  CAF_CHECK(!flush_on_this_worker(std::make_shared<recorder>()));
}

CAF_TEST(a worker flushes once it runs out of work on its own thread) {
  quiet_config cfg;
  caf::actor_system sys{cfg};
  auto a = std::make_shared<recorder>();
  auto b = std::make_shared<recorder>();
  std::promise<std::thread::id> turn;
  spawn_function(sys, [&](caf::event_based_actor* self) {
    CAF_CHECK(flush_on_this_worker(a));
    CAF_CHECK(flush_on_this_worker(b));
    // Not during the turn that handed them over.
    CAF_CHECK_EQUAL(a->calls, 0);
    turn.set_value(std::this_thread::get_id());
    self->quit();
  });
  auto on = turn.get_future().get();
  CAF_REQUIRE(a->flushed.get_future().wait_for(5s)
              == std::future_status::ready);
  CAF_REQUIRE(b->flushed.get_future().wait_for(5s)
              == std::future_status::ready);
  CAF_CHECK(a->thread == on);
  CAF_CHECK(b->thread == on);
  CAF_CHECK(!a->busy);
  CAF_CHECK(!b->busy);
  sys.await_all_actors_done();
  CAF_CHECK_EQUAL(a->calls, 1);
  CAF_CHECK_EQUAL(b->calls, 1);
}

CAF_TEST(a busy worker flushes within flush_every turns) {
  // One worker: no sibling steals the busy actor and leaves this one idle.
  quiet_config cfg{1};
  caf::actor_system sys{cfg};
  auto a = std::make_shared<recorder>();
  int turns = 0;
  int turns_at_flush = -1;
  // One actor that keeps its worker busy, a message per turn, for twice
  // flush_every turns; it notes how far it got when the flush came.
  spawn_function(sys, [&](caf::event_based_actor* self) {
    CAF_CHECK(flush_on_this_worker(a));
    self->become([&, self](more_atom) {
      if (a->calls > 0 && turns_at_flush < 0)
        turns_at_flush = turns;
      if (++turns < 2 * flush_every)
        self->send(self, more_atom::value);
      else
        self->quit();
    });
    self->send(self, more_atom::value);
  });
  sys.await_all_actors_done();
  CAF_CHECK_EQUAL(a->calls, 1);
  CAF_CHECK(a->busy);
  CAF_CHECK(turns_at_flush > 0);
  CAF_CHECK(turns_at_flush <= flush_every);
}

CAF_TEST(a flushable gone before the flush is skipped) {
  // The worker holds it weakly: it never outlives its owner, not even a
  // connection whose network ended while the worker still had it listed.
  struct counting : flushable {
    std::atomic<int>* flushes;
    explicit counting(std::atomic<int>* n) : flushes(n) {}
    void flush(bool) override {
      ++*flushes;
    }
  };
  quiet_config cfg;
  caf::actor_system sys{cfg};
  std::atomic<int> gone_flushes{0};
  auto kept = std::make_shared<recorder>();
  spawn_function(sys, [&](caf::event_based_actor* self) {
    // Listed first, so its flush would come before the kept one's.
    CAF_CHECK(flush_on_this_worker(std::make_shared<counting>(&gone_flushes)));
    CAF_CHECK(flush_on_this_worker(kept));
    self->quit();
  });
  CAF_REQUIRE(kept->flushed.get_future().wait_for(5s)
              == std::future_status::ready);
  CAF_CHECK_EQUAL(gone_flushes.load(), 0);
  sys.await_all_actors_done();
}
