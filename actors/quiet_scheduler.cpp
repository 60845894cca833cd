// CAF's worker loop (caf/scheduler/worker.hpp) tags every actor turn with
// the actor's id for the logger, at any log level: a dynamic_cast across
// CAF's virtual bases and two spinlocked hash-map updates, about 1,700
// instructions per turn, a fifth of the server's instructions per chunk
// (callgrind). parley writes nothing through CAF's logger, so the tag goes:
// the macro is defined away before the worker template is read, and the
// coordinator is instantiated here for a policy type of our own rather
// than taken from libcaf_core. This file must not use a precompiled header
// (CMakeLists.txt), which would have read the template first.
//
// libcaf_core's scheduled_actor::resume tags each turn once more, with the
// same lock (shared by all workers), unless the thread has no current
// logger. That is a thread-local pointer, set by every spawn on the
// spawning thread; so in place of the tag, the worker forgets it before
// each turn.
#include <caf/logger.hpp>

namespace parley {

inline void forget_caf_logger() {
  if (caf::logger::current_logger() != nullptr)
    caf::logger::set_current_actor_system(nullptr);
}

} // namespace parley

#undef CAF_PUSH_AID_FROM_PTR
#define CAF_PUSH_AID_FROM_PTR(ptr) ::parley::forget_caf_logger()
#undef CAF_SET_LOGGER_SYS
#define CAF_SET_LOGGER_SYS(ptr) static_cast<void>(0)

#include <array>
#include <atomic>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/coordinator.hpp>

#include "actors/quiet_clock.hpp"
#include "actors/quiet_scheduler.hpp"
#include "actors/worker_flush.hpp"

namespace parley {

namespace {

// The hubs of every actor system that uses this scheduler (one per process
// but in tests); compared by address only, never dereferenced.
std::array<std::atomic<caf::resumable*>, 8> hubs;

bool is_hub(caf::resumable* job) {
  for (auto& h : hubs)
    if (h.load(std::memory_order_relaxed) == job)
      return true;
  return false;
}

caf::resumable* resumable_of(const caf::actor& x) {
  return dynamic_cast<caf::resumable*>(
    caf::actor_cast<caf::abstract_actor*>(x));
}

// Its own type, so that worker<quiet_stealing> is compiled here, with the
// macro above.
struct quiet_stealing : caf::policy::work_stealing {
  // With one message per turn (scheduler.max-throughput), an actor with a
  // backlog goes to the back of the queue after each message. For an actor
  // that every conversation talks to, that is one message per round of all
  // runnable actors: 1,000 visitors pressing enter at once waited up to
  // 90 ms in the registry's mailbox. A hub stays at the front for a streak
  // of turns instead, about a hundred microseconds of work.
  template <class Worker>
  void before_resume(Worker*, caf::resumable* job) {
    if (job != streak_job_) {
      streak_job_ = job;
      streak_ = 0;
    }
  }

  // The output of the worker's turns (actors/worker_flush.hpp) is written
  // when its queue runs dry, before it steals or sleeps; every flush_every
  // turns of a busy run it goes to the network threads.
  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    if (!flushing_) {
      flushing_ = true;
      become_flushing_worker();
    }
    if (auto* job = d(self).queue.take_head()) {
      if (++turns_ < flush_every)
        return job;
      turns_ = 0;
      flush_this_worker(true);
      return job;
    }
    turns_ = 0;
    flush_this_worker(false);
    return work_stealing::dequeue(self);
  }

  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    if (is_hub(job) && ++streak_ < hub_streak)
      d(self).queue.prepend(job);
    else
      work_stealing::resume_job_later(self, job);
  }

  static constexpr int hub_streak = 64;
  // The job of the current streak of turns; a policy per worker: no sharing.
  caf::resumable* streak_job_ = nullptr;
  int streak_ = 0;
  int turns_ = 0; // since the last flush
  bool flushing_ = false;
};

// CAF's coordinator with the quiet policy, whose actors see the quiet clock
// (actors/quiet_clock.hpp); CAF's own clock thread still does the work.
class quiet_coordinator final
  : public caf::scheduler::coordinator<quiet_stealing> {
public:
  using super = caf::scheduler::coordinator<quiet_stealing>;

  explicit quiet_coordinator(caf::actor_system& sys)
    : super(sys), clock_(super::clock()) {
    // nop
  }

  caf::detail::thread_safe_actor_clock& clock() noexcept override {
    return clock_;
  }

protected:
  void start() override {
    clock_.start_dispatch(system());
    super::start();
  }

  void stop() override {
    // Its messages go to actors, whose turns need the workers.
    clock_.stop_dispatch();
    super::stop();
  }

private:
  quiet_clock clock_;
};

} // namespace

void mark_hub(const caf::actor& x) {
  auto* job = resumable_of(x);
  for (auto& h : hubs) {
    caf::resumable* empty = nullptr;
    if (h.compare_exchange_strong(empty, job))
      return;
  }
}

void unmark_hub(const caf::actor& x) {
  auto* job = resumable_of(x);
  for (auto& h : hubs) {
    auto* expected = job;
    h.compare_exchange_strong(expected, nullptr);
  }
}

void use_quiet_scheduler(caf::actor_system_config& cfg) {
  // A module with the scheduler's id replaces the one CAF would create.
  cfg.module_factories.emplace_back(
    [](caf::actor_system& sys) -> caf::actor_system::module* {
      return new quiet_coordinator(sys);
    });
}

} // namespace parley
