// The storage service, lanes of detached actors as the engine runs it, on
// a real backend
// (SQLite by default, PostgreSQL with PARLEY_TEST_DATABASE_URL): many
// concurrent writers, and the database going away and coming back.
#define CAF_SUITE store_service
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <set>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actors/spawn_function.hpp"
#include "actors/messages.hpp"
#include "actors/storage_actor.hpp"
#include "storage/health.hpp"
#include "storage/store.hpp"
#include "tests/db/test_database.hpp"

using namespace parley;
using namespace std::chrono_literals;

namespace {

struct service_config : caf::actor_system_config {
  service_config() {
    add_message_types<caf::id_block::parley>();
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
  }
};

storage::session_record make_session(const std::string& id) {
  storage::session_record x;
  x.id = id;
  x.visitor_id = "v";
  x.status = "active";
  x.created_at = 1;
  x.expires_at = 2;
  x.last_activity_at = 1;
  return x;
}

storage::message_record make_message(const std::string& id,
                                     const std::string& session_id,
                                     std::int64_t created_at) {
  return storage::text_message(id,      session_id, "user",
                                 "message", "text " + id, "complete",
                                 created_at);
}

// Stores messages 0..n-1 of session `sid`, one request at a time, then
// tells `done` how many were acknowledged.
void write_from(caf::event_based_actor* self, caf::actor storage,
                caf::actor done, std::string sid, int i, int n, int acked) {
  if (i == n) {
    self->send(done, acked);
    self->quit();
    return;
  }
  auto id = sid + "-" + std::to_string(i);
  self
    ->request(storage, caf::timespan{std::chrono::seconds(60)},
              save_message{make_message(id, sid, i / 3)})
    .then(
      [=](bool) { write_from(self, storage, done, sid, i + 1, n, acked + 1); },
      [=](caf::error&) { write_from(self, storage, done, sid, i + 1, n, acked); });
}

// "ok" or the error's text.
using outcome = std::string;

struct fixture {
  parley::test::test_database env;
  std::string url = env.fresh_url();
  std::shared_ptr<storage::store> db = storage::open_store(url);
  std::shared_ptr<storage::health> health
    = std::make_shared<storage::health>();
  service_config cfg;
  caf::actor_system sys{cfg};
  caf::actor storage;

  fixture() {
    db->migrate();
  }

  ~fixture() {
    caf::anon_send_exit(storage, caf::exit_reason::user_shutdown);
  }

  // As the engine does: lanes as the backend likes (PostgreSQL: several
  // connections), detached.
  void start(storage_options opts) {
    opts.health = health;
    opts.connect = [u = url] { return storage::open_store(u); };
    storage = spawn_storage(sys, std::move(opts));
  }

  storage_options fast_options() {
    storage_options opts{db};
    opts.min_backoff = 50ms;
    opts.max_backoff = 500ms;
    opts.max_wait = 30s;
    return opts;
  }

  template <class T>
  outcome ask(T msg, caf::timespan timeout = 60s) {
    caf::scoped_actor self{sys};
    outcome result = "no reply";
    self->request(storage, timeout, std::move(msg))
      .receive([&](bool) { result = "ok"; },
               [&](caf::error& err) { result = sys.render(err); });
    return result;
  }

  outcome count_messages(const std::string& session_id, std::size_t& n) {
    caf::scoped_actor self{sys};
    outcome result = "no reply";
    self->request(storage, caf::timespan{60s}, load_messages{session_id})
      .receive(
        [&](message_list& xs) {
          n = xs.messages.size();
          result = "ok";
        },
        [&](caf::error& err) { result = sys.render(err); });
    return result;
  }

  // `writers` actors each store `per_writer` messages, one request at a
  // time, into a session of their own; returns how many were acknowledged.
  int run_writers(int writers, int per_writer, const std::string& tag) {
    for (int w = 0; w < writers; ++w)
      CAF_REQUIRE_EQUAL(ask(save_session{make_session(tag + std::to_string(w)),
                                         true}),
                        "ok");
    caf::scoped_actor self{sys};
    auto done = caf::actor{self};
    auto dst = storage;
    for (int w = 0; w < writers; ++w) {
      auto sid = tag + std::to_string(w);
      spawn_function(sys, [=](caf::event_based_actor* client) {
        write_from(client, dst, done, sid, 0, per_writer, 0);
      });
    }
    int total = 0;
    for (int w = 0; w < writers; ++w)
      self->receive([&](int n) { total += n; },
                    caf::after(std::chrono::seconds(120)) >>
                      [&] { CAF_FAIL("writers did not finish"); });
    return total;
  }

  template <class Predicate>
  bool eventually(Predicate p, std::chrono::milliseconds limit = 20s) {
    auto give_up = std::chrono::steady_clock::now() + limit;
    while (!p()) {
      if (std::chrono::steady_clock::now() > give_up)
        return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }
};

// Restarts the server if a test stopped it and then failed.
struct server_guard {
  parley::test::test_database& env;
  bool stopped = false;
  void stop() {
    env.stop_server();
    stopped = true;
  }
  void start() {
    env.start_server();
    stopped = false;
  }
  ~server_guard() {
    if (stopped)
      env.start_server();
  }
};

bool contains(const std::string& x, const std::string& part) {
  return x.find(part) != std::string::npos;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(store_service_tests, fixture)

CAF_TEST(concurrent writers are all acknowledged and stored in order) {
  CAF_MESSAGE("backend: " << env.backend());
  start(storage_options{db});
  CAF_CHECK_EQUAL(run_writers(50, 40, "w"), 50 * 40);
  auto check = storage::open_store(url);
  for (int w = 0; w < 50; ++w) {
    auto xs = check->messages("w" + std::to_string(w));
    CAF_REQUIRE_EQUAL(xs.size(), 40u);
    for (int i = 0; i < 40; ++i)
      CAF_CHECK_EQUAL(xs[i].id, "w" + std::to_string(w) + "-"
                                  + std::to_string(i));
  }
}

CAF_TEST(a read right after writes sees them) {
  start(storage_options{db});
  CAF_REQUIRE_EQUAL(ask(save_session{make_session("s"), true}), "ok");
  caf::scoped_actor self{sys};
  for (int i = 0; i < 20; ++i)
    self->send(storage, save_message{make_message(std::to_string(i), "s", i)});
  std::size_t n = 0;
  CAF_CHECK_EQUAL(count_messages("s", n), "ok");
  CAF_CHECK_EQUAL(n, 20u);
}

CAF_TEST(bad text fails its request with a clear error) {
  start(storage_options{db});
  CAF_REQUIRE_EQUAL(ask(save_session{make_session("s"), true}), "ok");
  auto m = make_message("m", "s", 1);
  m.content = "bad \xF0\x28\x8C\x28";
  auto e = ask(save_message{m});
  CAF_CHECK(contains(e, "invalid message: content is not valid UTF-8 "
                        "(byte 4)"));
  std::size_t n = 9;
  CAF_CHECK_EQUAL(count_messages("s", n), "ok");
  CAF_CHECK_EQUAL(n, 0u);
}

CAF_TEST(a cut connection is reconnected without an error) {
  if (!env.is_postgres()) {
    CAF_MESSAGE("skipped: SQLite has no connection to cut");
    return;
  }
  start(fast_options());
  CAF_REQUIRE_EQUAL(ask(save_session{make_session("s"), true}), "ok");
  env.cut_connections();
  CAF_CHECK_EQUAL(ask(save_message{make_message("m1", "s", 1)}), "ok");
  env.cut_connections();
  std::size_t n = 0;
  CAF_CHECK_EQUAL(count_messages("s", n), "ok");
  CAF_CHECK_EQUAL(n, 1u);
  CAF_CHECK(health->ok());
}

CAF_TEST(the store survives the server stopping and starting) {
  if (!env.can_restart()) {
    CAF_MESSAGE("skipped: no server to stop (PARLEY_TEST_DB_STOP unset)");
    return;
  }
  server_guard server{env};
  db->insert_session(make_session("s"));
  server.stop();
  std::string e = "(no exception)";
  try {
    db->insert_message(make_message("m1", "s", 1));
  } catch (const storage::unavailable& x) {
    e = x.what();
  }
  CAF_MESSAGE("inserting while stopped: " << e);
  CAF_CHECK(contains(e, "postgresql: inserting a message failed"));
  CAF_CHECK_EQUAL(e.find("pw-"), std::string::npos); // no password
  try {
    db->ping();
    CAF_FAIL("ping succeeded with the server stopped");
  } catch (const storage::unavailable& x) {
    CAF_MESSAGE("while stopped: " << x.what());
  }
  server.start();
  // The same store object works again, by itself.
  db->insert_message(make_message("m2", "s", 2));
  CAF_CHECK_EQUAL(db->messages("s").size(), 1u);
}

CAF_TEST(the actor rides out a server restart without losing writes) {
  if (!env.can_restart()) {
    CAF_MESSAGE("skipped: no server to stop (PARLEY_TEST_DB_STOP unset)");
    return;
  }
  server_guard server{env};
  start(fast_options());
  CAF_REQUIRE_EQUAL(ask(save_session{make_session("s"), true}), "ok");
  CAF_REQUIRE_EQUAL(ask(save_message{make_message("before", "s", 1)}), "ok");
  server.stop();
  // A read fails promptly with the reason, and /healthz would say why.
  auto t0 = std::chrono::steady_clock::now();
  std::size_t n = 0;
  auto e = count_messages("s", n);
  CAF_CHECK(contains(e, "postgresql"));
  CAF_CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CAF_CHECK(eventually([&] { return !health->ok(); }));
  CAF_MESSAGE("health while stopped: " << health->get().reason);
  CAF_CHECK(!health->get().reason.empty());
  // A write waits for the server, which comes back within its max_wait.
  auto pending = std::async(std::launch::async, [&] {
    return ask(save_message{make_message("during", "s", 2)});
  });
  std::this_thread::sleep_for(300ms);
  server.start();
  CAF_CHECK_EQUAL(pending.get(), "ok");
  CAF_CHECK(eventually([&] { return health->ok(); }));
  CAF_CHECK_EQUAL(ask(save_message{make_message("after", "s", 3)}), "ok");
  // Every acknowledged write is there, seen by a fresh connection.
  auto check = storage::open_store(url);
  auto xs = check->messages("s");
  CAF_REQUIRE_EQUAL(xs.size(), 3u);
  CAF_CHECK_EQUAL(xs[0].id, "before");
  CAF_CHECK_EQUAL(xs[1].id, "during");
  CAF_CHECK_EQUAL(xs[2].id, "after");
}

CAF_TEST(writers during an outage get an answer and lose nothing acked) {
  if (!env.can_restart()) {
    CAF_MESSAGE("skipped: no server to stop (PARLEY_TEST_DB_STOP unset)");
    return;
  }
  server_guard server{env};
  auto opts = fast_options();
  opts.max_wait = 1s;
  start(opts);
  for (int w = 0; w < 5; ++w)
    CAF_REQUIRE_EQUAL(ask(save_session{make_session("o" + std::to_string(w)),
                                       true}),
                      "ok");
  // Writers keep going while the server stops and starts again; each
  // write is acknowledged or fails, none hangs.
  std::thread restarter{[&] {
    std::this_thread::sleep_for(200ms);
    server.stop();
    std::this_thread::sleep_for(1500ms);
    server.start();
  }};
  std::vector<std::string> acked;
  int failed = 0;
  int in_doubt = 0; // the connection broke during COMMIT, and stayed down
  auto deadline = std::chrono::steady_clock::now() + 4s;
  for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
    auto id = "o-" + std::to_string(i);
    auto r = ask(save_message{make_message(id, "o" + std::to_string(i % 5),
                                           i)},
                 10s);
    if (r == "ok") {
      acked.push_back(id);
    } else {
      ++failed;
      in_doubt += contains(r, "may have been stored") ? 1 : 0;
    }
  }
  restarter.join();
  CAF_MESSAGE(acked.size() << " writes acknowledged, " << failed
                           << " failed during the outage (" << in_doubt
                           << " in doubt)");
  CAF_CHECK_GREATER(failed, 0);
  CAF_CHECK(eventually([&] { return health->ok(); }));
  auto check = storage::open_store(url);
  std::set<std::string> found;
  for (int w = 0; w < 5; ++w)
    for (auto& x : check->messages("o" + std::to_string(w)))
      found.insert(x.id);
  // Acknowledged means stored; a write that failed is not stored, unless
  // its commit was in doubt and the database did not return in time to
  // say.
  for (auto& id : acked)
    CAF_CHECK(found.count(id) == 1);
  CAF_CHECK_LESS_OR_EQUAL(found.size(), acked.size() + in_doubt);
}

CAF_TEST_FIXTURE_SCOPE_END()
