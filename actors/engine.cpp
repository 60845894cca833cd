#include "actors/engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <caf/all.hpp>

#include "actors/clock.hpp"
#include "actors/connections.hpp"
#include "actors/llm_actor.hpp"
#include "actors/messages.hpp"
#include "actors/owner_key.hpp"
#include "actors/pacer.hpp"
#include "actors/quiet_scheduler.hpp"
#include "actors/registry.hpp"
#include "actors/spawn_function.hpp"
#include "actors/storage_actor.hpp"
#include "actors/uuid.hpp"
#include "agent/knowledge_base.hpp"
#include "agent/llm_client.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"
#include "storage/health.hpp"
#include "storage/store.hpp"

namespace parley {

namespace {

class system_config : public caf::actor_system_config {
public:
  system_config() {
    add_message_types<caf::id_block::parley>();
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
    // An idle worker sleeps on a condition variable that every enqueue from
    // outside signals; it also wakes after this long to steal work from a
    // busy sibling. CAF's 10 ms made idle servers wake 100 times a second
    // per worker, and a wake-up costs 50 to 300 us of CPU on this virtual
    // machine (from /proc/PID/task/*/schedstat); at 1 s those wake-ups were
    // still the idle server's only CPU use (0.06 %). A sibling with a
    // backlog of its own actors' messages goes unhelped only until the next
    // message from a network thread, the clock or storage wakes this one
    // (CAF hands those to the workers in turn), which under load is soon.
    set("work-stealing.relaxed-sleep-duration",
        caf::timespan{std::chrono::seconds(30)});
    // One worker per core: actors never block (storage and the upstream
    // client have threads of their own), and CAF's minimum of four put four
    // polling workers beside the network threads on a two-core machine.
    set("scheduler.max-threads",
        static_cast<std::size_t>(
          std::max(2u, std::thread::hardware_concurrency())));
    // After its queue runs dry a worker spins briefly, then CAF would have
    // it poll every 50 us for 25 ms: at a thousand paced streams those
    // wake-ups were a tenth of the server's CPU. It sleeps at once instead;
    // work from other threads wakes it.
    set("work-stealing.moderate-poll-attempts", std::size_t{0});
    // One message per turn, then the actor goes to the back of the queue.
    // CAF's default (no limit) let an unpaced builtin reply, whose actor
    // sends itself a message per chunk, emit all its chunks in one turn:
    // a whole reply in one burst instead of chunks interleaved with other
    // conversations as a real upstream's tokens arrive. Costs about a fifth
    // of the unpaced chunk frames/s.
    set("scheduler.max-throughput", std::size_t{1});
    use_quiet_scheduler(*this);
  }
};

constexpr auto rest_timeout = std::chrono::seconds(30);

// PARLEY_KNOWLEDGE_DIR, split and indexed. A folder that was named but
// cannot be read stops start-up; the shipped sample folder missing (a
// binary moved away from its source tree) only leaves the agent without
// sources.
std::shared_ptr<const agent::knowledge_base>
load_knowledge(const settings& cfg) {
  auto dir = cfg.knowledge_dir.empty()
               ? std::string{agent::sample_knowledge_dir()}
               : cfg.knowledge_dir;
  try {
    auto kb = std::make_shared<agent::knowledge_base>(
      agent::knowledge_base::load(dir));
    log_info("knowledge: ", kb->passages().size(), " passages from ", dir);
    return kb;
  } catch (const std::runtime_error& e) {
    if (!cfg.knowledge_dir.empty())
      throw;
    log_warn("knowledge: none (", e.what(), ")");
    return nullptr;
  }
}

} // namespace

struct engine::impl {
  explicit impl(const settings& x) : cfg(x) {
    // nop
  }
  settings cfg;
  system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  connection_table connections;
  caf::actor storage;
  caf::actor registry;
  caf::actor pacer;
  // Written by the storage lanes, read by /healthz on network threads.
  std::shared_ptr<storage::health> db_health
    = std::make_shared<storage::health>();
  std::shared_ptr<agent::llm_client> llm; // null for the builtin agent
  std::atomic<bool> ready{false};
  bool stopped = false;

  // A one-shot actor that asks `target` and hands the answer to `done`: REST
  // handlers run on network threads and must not block on actors.
  // Asks the registry for a session and its messages.
  void fetch(std::string session_id, std::string visitor_id,
             std::function<void(session_reply)> done);

  // Stores a new session or conversation; answers 201 with it.
  void save_new(storage::session_record s,
                std::function<void(session_reply)> done);

  template <class Reply, class Request, class OnError>
  void ask(caf::actor target, Request req, std::function<void(Reply)> done,
           OnError on_error) {
    spawn_function(*sys, [=](caf::event_based_actor* self) {
      // It must quit by itself: an actor without behavior lingers here.
      self->request(target, rest_timeout, req)
        .then(
          [=](Reply& x) {
            done(std::move(x));
            self->quit();
          },
          [=](caf::error& err) {
            on_error(caf::to_string(err));
            self->quit();
          });
    });
  }
};

engine::engine(const settings& cfg) : impl_(std::make_unique<impl>(cfg)) {
  // nop
}

engine::~engine() {
  finish();
}

void engine::finish() {
  stop();
  auto& d = *impl_;
  if (!d.sys)
    return;
  // Pending timers (idle ticks, request timeouts) hold their actors, whose
  // spawn arguments hold the storage actor, and a detached actor's thread
  // lives until its last handle is gone: wait for every actor to quit, drop
  // the timers, then the handles. This runs after the network threads ended:
  // CAF's logger, referenced by every thread that called into CAF, must go.
  d.sys->registry().await_running_count_equal(0);
  d.sys->clock().cancel_all();
  // The curl loop's streams hold actor handles and its thread called into
  // CAF: end both while the system lives.
  if (d.llm)
    d.llm->stop();
  d.registry = nullptr;
  d.storage = nullptr;
  d.pacer = nullptr;
  d.sys.reset();
  d.llm = nullptr;
}

void engine::start() {
  auto& d = *impl_;
  std::shared_ptr<storage::store> db = storage::open_store(d.cfg.database_url);
  db->migrate();
  d.llm = make_llm_client(d.cfg); // before the actors that use it
  auto knowledge = load_knowledge(d.cfg);
  d.sys = std::make_unique<caf::actor_system>(d.sys_cfg);
  storage_options opts{db};
  opts.connect = [url = d.cfg.database_url] {
    return std::shared_ptr<storage::store>{storage::open_store(url)};
  };
  opts.health = d.db_health;
  // Without traffic, an outage still shows on /healthz within a second.
  if (db->needs_probe())
    opts.probe_interval = std::chrono::seconds(1);
  d.storage = spawn_storage(*d.sys, std::move(opts));
  d.pacer = d.sys->spawn(pacer, pacer_slack);
  d.registry = d.sys->spawn(registry,
                            conversation_deps{d.storage, {}, &d.connections,
                                              &d.cfg, d.llm,
                                              std::move(knowledge), d.pacer});
  mark_hub(d.registry);
  mark_hub(d.pacer);
  d.ready = true;
}

void engine::stop() {
  auto& d = *impl_;
  if (!d.sys || d.stopped)
    return;
  d.ready = false;
  d.stopped = true;
  caf::scoped_actor self{*d.sys};
  self->request(d.registry, std::chrono::seconds(4), shutdown_atom::value)
    .receive([](bool) {},
             [](caf::error& err) {
               log_warn("shutdown incomplete: " + caf::to_string(err));
             });
  unmark_hub(d.registry);
  unmark_hub(d.pacer);
  self->send_exit(d.registry, caf::exit_reason::user_shutdown);
  self->send_exit(d.storage, caf::exit_reason::user_shutdown);
  self->send_exit(d.pacer, caf::exit_reason::user_shutdown);
}

bool engine::ready() const {
  return impl_->ready;
}

std::string engine::degraded() const {
  return impl_->db_health->get().reason;
}

std::uint64_t engine::attach(std::weak_ptr<sink> out, encoder enc) {
  return impl_->connections.add(std::move(out), enc);
}

void engine::detach(std::uint64_t conn) {
  // After finish(): the sessions destroyed with their io_context leave
  // conversations that have ended with the actor system.
  if (!impl_->sys)
    return;
  for (auto& conv : impl_->connections.remove(conn))
    caf::anon_send(conv, leave{conn});
}

namespace {

std::string visitor_key(std::string visitor_id) {
  if (visitor_id.rfind(owner_prefix, 0) == 0) // starts with it
    visitor_id.clear();
  return visitor_id;
}

} // namespace

void engine::open(std::uint64_t conn, std::string session_id,
                  std::string visitor_id) {
  caf::anon_send(impl_->registry,
                 open_session{conn, std::move(session_id),
                              visitor_key(std::move(visitor_id))});
}

void engine::post(std::uint64_t conn, std::string session_id,
                  std::string visitor_id, std::string text) {
  // The registry is one actor for every session: a socket's messages to
  // the session it watches skip that hop.
  auto conv = impl_->connections.watched(conn, session_id);
  caf::anon_send(conv ? conv : impl_->registry,
                 post_message{conn, std::move(session_id),
                              visitor_key(std::move(visitor_id)),
                              std::move(text)});
}

void engine::post_as_user(std::uint64_t conn, std::string session_id,
                          std::string sub, std::string text) {
  caf::anon_send(impl_->registry,
                 post_message{conn, std::move(session_id),
                              owner_key(std::move(sub)), std::move(text)});
}

void engine::reply(std::uint64_t conn, const event& ev) {
  impl_->connections.send(conn, ev);
}

void engine::create_session(std::string visitor_id,
                            std::string conversation_data,
                            std::function<void(session_reply)> done) {
  auto& d = *impl_;
  using namespace std::chrono;
  storage::session_record s;
  s.id = make_uuid();
  s.visitor_id = visitor_id.empty() ? make_uuid() : std::move(visitor_id);
  s.status = "active";
  s.created_at
    = duration_cast<milliseconds>(system_clock::now().time_since_epoch())
        .count();
  s.expires_at = s.created_at + d.cfg.session_ttl_seconds * 1000;
  s.last_activity_at = s.created_at;
  s.conversation_data = conversation_data.empty() ? "{}"
                                                  : std::move(conversation_data);
  d.save_new(std::move(s), std::move(done));
}

void engine::create_conversation(std::string owner_id, std::string title,
                                 std::function<void(session_reply)> done) {
  using namespace std::chrono;
  storage::session_record s;
  s.id = make_uuid();
  s.kind = "conversation";
  s.visitor_id = owner_key(owner_id);
  s.owner_id = std::move(owner_id);
  s.title = std::move(title);
  s.status = "active";
  s.created_at
    = duration_cast<milliseconds>(system_clock::now().time_since_epoch())
        .count();
  s.expires_at = s.created_at; // conversations do not expire
  s.last_activity_at = s.created_at;
  impl_->save_new(std::move(s), std::move(done));
}

void engine::list_conversations(std::string owner_id,
                                std::function<void(session_reply)> done) {
  auto& d = *impl_;
  d.ask<session_list>(
    d.storage, load_conversations{std::move(owner_id)},
    std::function<void(session_list)>{[done](session_list xs) {
      session_reply r;
      r.sessions = std::move(xs.sessions);
      done(std::move(r));
    }},
    [done](std::string err) {
      done(session_reply{503, "Storage unavailable: " + err, {}, {}, {}});
    });
}

void engine::impl::save_new(storage::session_record s,
                            std::function<void(session_reply)> done) {
  ask<bool>(
    storage, save_session{s, true},
    std::function<void(bool)>{[reg = registry, done, s](bool) {
      // Before the client hears of the session, so the registry knows it
      // by the client's first command (one mailbox, in order).
      caf::anon_send(reg, session_created{s});
      session_reply r;
      r.status = 201;
      r.session = s;
      done(std::move(r));
    }},
    [done](std::string err) {
      done(session_reply{503, "Storage unavailable: " + err, {}, {}, {}});
    });
}

void engine::resume_as_user(std::uint64_t conn, std::string session_id,
                            std::string sub, std::string reply_id,
                            std::uint32_t after) {
  caf::anon_send(impl_->registry,
                 resume_reply{conn, std::move(session_id),
                              owner_key(std::move(sub)), std::move(reply_id),
                              after});
}

void engine::get_session(std::string session_id, std::string visitor_id,
                         std::function<void(session_reply)> done) {
  impl_->fetch(std::move(session_id), visitor_key(std::move(visitor_id)),
               std::move(done));
}

namespace {

constexpr const char* conversation_not_found = "Conversation not found";

// A signed-in user's error text: every 404 reads the same, whether the id
// never existed or is someone else's, so that ids stay unguessable.
std::string user_error(int status, std::string error) {
  return status == 404 ? conversation_not_found : std::move(error);
}

} // namespace

void engine::get_conversation(std::string session_id, std::string sub,
                              std::function<void(session_reply)> done,
                              bool with_messages) {
  auto& d = *impl_;
  d.ask<session_view>(
    d.registry,
    fetch_session{std::move(session_id), owner_key(std::move(sub)),
                  with_messages},
    std::function<void(session_view)>{[done](session_view v) {
      // A stranger's conversation (403), or a visitor session, is as
      // absent as one that never was.
      if (v.status == 403 || v.status == 404
          || (v.status < 400 && v.session.kind != "conversation"))
        return done(session_reply{404, conversation_not_found, {}, {}, {}});
      done(session_reply{v.status, std::move(v.error), std::move(v.session),
                         std::move(v.messages), {}});
    }},
    [done](std::string err) {
      done(session_reply{503, "Storage unavailable: " + err, {}, {}, {}});
    });
}

void engine::watch_as_user(std::uint64_t conn, std::string session_id,
                           std::string sub) {
  caf::anon_send(impl_->registry, open_session{conn, std::move(session_id),
                                               owner_key(std::move(sub))});
}

void engine::submit_as_user(std::string session_id, std::string sub,
                            std::string text, std::string image,
                            std::function<void(session_reply)> done) {
  auto& d = *impl_;
  d.ask<submit_result>(
    d.registry,
    submit_message{std::move(session_id), owner_key(std::move(sub)),
                   std::move(text), std::move(image)},
    std::function<void(submit_result)>{[done](submit_result x) {
      session_reply r;
      r.status = x.status;
      r.error = user_error(x.status, std::move(x.error));
      if (x.status < 400)
        r.messages.push_back(std::move(x.message));
      done(std::move(r));
    }},
    [done](std::string err) {
      done(session_reply{503, "Storage unavailable: " + err, {}, {}, {}});
    });
}

void engine::impl::fetch(std::string session_id, std::string visitor_id,
                         std::function<void(session_reply)> done) {
  auto& d = *this;
  d.ask<session_view>(
    d.registry, fetch_session{std::move(session_id), std::move(visitor_id)},
    std::function<void(session_view)>{[done](session_view v) {
      done(session_reply{v.status, std::move(v.error), std::move(v.session),
                         std::move(v.messages), {}});
    }},
    [done](std::string err) {
      done(session_reply{503, "Storage unavailable: " + err, {}, {}, {}});
    });
}

void engine::delete_conversation(std::string session_id, std::string sub,
                                 std::function<void(session_reply)> done) {
  auto& d = *impl_;
  d.ask<status_result>(
    d.registry,
    parley::delete_conversation{std::move(session_id),
                                owner_key(std::move(sub))},
    std::function<void(status_result)>{[done](status_result x) {
      done(session_reply{x.status, user_error(x.status, std::move(x.error)),
                         {}, {}, {}});
    }},
    [done](std::string err) {
      done(session_reply{503, "Storage unavailable: " + err, {}, {}, {}});
    });
}

void engine::change_member(std::string session_id, std::string sub,
                           std::string member, bool add,
                           std::function<void(session_reply)> done) {
  auto& d = *impl_;
  d.ask<session_view>(
    d.registry,
    parley::change_member{std::move(session_id), owner_key(std::move(sub)),
                          std::move(member), add},
    std::function<void(session_view)>{[done](session_view v) {
      done(session_reply{v.status, user_error(v.status, std::move(v.error)),
                         std::move(v.session), {}, {}});
    }},
    [done](std::string err) {
      done(session_reply{503, "Storage unavailable: " + err, {}, {}, {}});
    });
}

void engine::approve(std::string session_id, std::string tool_call_id,
                     bool approved,
                     std::function<void(int, std::string)> done) {
  auto& d = *impl_;
  d.ask<status_result>(
    d.registry,
    approve_tool{std::move(session_id), std::move(tool_call_id), approved},
    std::function<void(status_result)>{[done](status_result r) {
      done(r.status, std::move(r.error));
    }},
    [done](std::string err) { done(503, "Engine unavailable: " + err); });
}

} // namespace parley
